import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type ConnectionGateway, MessageTooLargeError } from '../../ports/gateway.ts';
import type { ServerMessage } from '../../protocol/signaling.ts';
import { SignedPoster } from './SignedPoster.ts';

/** The WebSocket API's @connections management endpoint (API Gateway, or the local emulator). */
export class ApiGatewayConnections implements ConnectionGateway {
  /** The SDK client: its credentials and region (the default chain, refreshed), and the rare DELETE. */
  readonly #client: ApiGatewayManagementApiClient;
  /** Posts, the hot path: signed requests without the SDK's middleware (SignedPoster). */
  readonly #poster: SignedPoster;

  constructor(endpoint: string) {
    this.#client = new ApiGatewayManagementApiClient({ endpoint });
    this.#poster = new SignedPoster(endpoint);
  }

  /** Gone (410) is false; too large (413) is MessageTooLargeError; any other failure rejects. */
  async post(connectionId: string, message: ServerMessage): Promise<boolean> {
    const data = Buffer.from(JSON.stringify(message));
    const [identity, region] = await Promise.all([
      this.#client.config.credentials(),
      this.#client.config.region(),
    ]);
    const { status, body } = await this.#poster.post(
      `/@connections/${encodeURIComponent(connectionId)}`,
      data,
      identity,
      region,
    );
    if (status >= 200 && status < 300) return true;
    if (status === 410) return false;
    if (status === 413) throw new MessageTooLargeError(data.length);
    throw new Error(`PostToConnection: HTTP ${status} ${body.slice(0, 200)}`);
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
    this.#poster.close();
  }
}
