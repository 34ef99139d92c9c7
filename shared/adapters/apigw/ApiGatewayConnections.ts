import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type ConnectionGateway, MessageTooLargeError } from '../../ports/gateway.ts';
import type { ServerMessage } from '../../protocol/signaling.ts';

/** The WebSocket API's @connections management endpoint (API Gateway, or the local emulator). */
export class ApiGatewayConnections implements ConnectionGateway {
  readonly #client: ApiGatewayManagementApiClient;

  constructor(endpoint: string) {
    this.#client = new ApiGatewayManagementApiClient({ endpoint });
  }

  /** Gone (410) is false; too large (413) is MessageTooLargeError; any other failure rejects as it is. */
  async post(connectionId: string, message: ServerMessage): Promise<boolean> {
    const data = Buffer.from(JSON.stringify(message));
    try {
      await this.#client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return true;
    } catch (error) {
      if (error instanceof GoneException) return false;
      if (error instanceof PayloadTooLargeException || statusOf(error) === 413)
        throw new MessageTooLargeError(data.length);
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

/** The HTTP status of an AWS SDK service error (a 413 without a modelled type still is one). */
const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
