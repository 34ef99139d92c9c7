import type { ConnectionGateway } from '../../shared/ports/gateway.ts';
import type { ServerEvent } from '../../shared/protocol/signaling.ts';
import type { ParticipantSink } from '../sfu/ParticipantSink.ts';

/** A participant's events over its WebSocket, through the connection gateway. */
export class GatewaySink implements ParticipantSink {
  readonly #gateway: ConnectionGateway;
  readonly connectionId: string;

  constructor(gateway: ConnectionGateway, connectionId: string) {
    this.#gateway = gateway;
    this.connectionId = connectionId;
  }

  /** Gone connections are the gateway's to report (`connection.closed`): here only false. */
  post(event: ServerEvent): Promise<boolean> {
    return this.#gateway.post(this.connectionId, event).catch(() => false);
  }

  async close(): Promise<void> {
    await this.#gateway.disconnect(this.connectionId).catch(() => {});
  }
}
