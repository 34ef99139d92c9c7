import { ConflictError } from '../../errors.ts';
import type { Page, PageRequest, ServiceRecord, ServiceStore, StoredWebhook } from '../../ports/durable.ts';
import { CreationOrder } from './paging.ts';

export class MemoryServiceStore implements ServiceStore {
  readonly #byId = new Map<string, ServiceRecord>();
  readonly #names = new Set<string>();
  /** Services in creation order: a page reads and clones only its own records. */
  readonly #order = new CreationOrder();

  async create(service: ServiceRecord): Promise<void> {
    // Invariant: ids and names are unique across services.
    if (this.#byId.has(service.id)) throw new ConflictError(`service ${service.id} exists`);
    if (this.#names.has(service.name)) throw new ConflictError(`a service named ${service.name} exists`);
    this.#byId.set(service.id, structuredClone(service));
    this.#names.add(service.name);
    this.#order.add(CreationOrder.key(service));
  }

  async get(id: string): Promise<ServiceRecord | undefined> {
    const s = this.#byId.get(id);
    return s && structuredClone(s);
  }

  async list(page: PageRequest): Promise<Page<ServiceRecord>> {
    const keys = this.#order.page(page);
    return {
      ...keys,
      items: keys.items.map((key) => structuredClone(this.#byId.get(key.slice(key.indexOf('#') + 1))!)),
    };
  }

  async delete(id: string): Promise<boolean> {
    const stored = this.#byId.get(id);
    if (!stored) return false;
    this.#order.remove(CreationOrder.key(stored));
    this.#names.delete(stored.name);
    return this.#byId.delete(id);
  }

  async setWebhook(id: string, webhook: StoredWebhook | undefined): Promise<boolean> {
    const stored = this.#byId.get(id);
    if (!stored) return false;
    if (webhook) stored.webhook = structuredClone(webhook);
    else delete stored.webhook;
    return true;
  }
}
