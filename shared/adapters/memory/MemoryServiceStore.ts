import { ConflictError } from '../../errors.ts';
import type { Page, PageRequest, ServiceRecord, ServiceStore } from '../../ports/durable.ts';
import { pageOf } from './paging.ts';

export class MemoryServiceStore implements ServiceStore {
  readonly #byId = new Map<string, ServiceRecord>();

  async create(service: ServiceRecord): Promise<void> {
    // Invariant: ids and names are unique across services.
    if (this.#byId.has(service.id)) throw new ConflictError(`service ${service.id} exists`);
    for (const s of this.#byId.values()) {
      if (s.name === service.name) throw new ConflictError(`a service named ${service.name} exists`);
    }
    this.#byId.set(service.id, structuredClone(service));
  }

  async get(id: string): Promise<ServiceRecord | undefined> {
    const s = this.#byId.get(id);
    return s && structuredClone(s);
  }

  async list(page: PageRequest): Promise<Page<ServiceRecord>> {
    const all = [...this.#byId.values()].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    return pageOf(structuredClone(all), page);
  }

  async delete(id: string): Promise<boolean> {
    return this.#byId.delete(id);
  }
}
