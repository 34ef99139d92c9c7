import type { ConnectionRecord, ConnectionStore } from '../../ports/gateway.ts';

export class MemoryConnectionStore implements ConnectionStore {
  readonly #records = new Map<string, ConnectionRecord>();

  async put(record: ConnectionRecord): Promise<void> {
    this.#records.set(record.connectionId, structuredClone(record));
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const r = this.#records.get(connectionId);
    return r && structuredClone(r);
  }

  async delete(connectionId: string): Promise<void> {
    this.#records.delete(connectionId);
  }
}
