import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionGateway } from '../../ports/gateway.ts';
import type { ServerMessage } from '../../protocol/signaling.ts';

/** The WebSocket API's @connections management endpoint (API Gateway, or the local emulator). */
export class ApiGatewayConnections implements ConnectionGateway {
  readonly #client: ApiGatewayManagementApiClient;

  constructor(endpoint: string) {
    this.#client = new ApiGatewayManagementApiClient({ endpoint });
  }

  async post(connectionId: string, message: ServerMessage): Promise<boolean> {
    try {
      await this.#client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: Buffer.from(JSON.stringify(message)),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.#client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
