import { randomUUID } from 'node:crypto';
import { ErrorCodes, NotFoundError, PermissionError } from '../../shared/errors.ts';
import type { Page, PageRequest, ServiceRecord, ServiceStore } from '../../shared/ports/durable.ts';
import { KeyCache } from './KeyCache.ts';
import { type KeySealer, newSecret } from './secrets.ts';

/** Who is calling the management API, as established by ManagementAuth. */
export interface Caller {
  serviceId: string;
  isSuper: boolean;
}

export interface ServiceView {
  id: string;
  name: string;
  createdAt: string;
}

/** How long a looked-up key (or its absence) is trusted; a delete elsewhere takes this long to bite. */
const KEY_CACHE_TTL_MS = 30_000;
const KEY_CACHE_ENTRIES = 1000;

/**
 * Services (tenants). The super service comes from configuration and manages the others; every
 * other service sees only itself. Keys are shown once, at creation, and stored sealed.
 */
export class ServiceRegistry {
  readonly #store: ServiceStore;
  readonly #sealer: KeySealer;
  readonly #super: { id: string; key: string };
  readonly #keys: KeyCache;

  constructor(
    store: ServiceStore,
    sealer: KeySealer,
    superService: { id: string; key: string },
    options: { now?: () => number } = {},
  ) {
    this.#store = store;
    this.#sealer = sealer;
    this.#super = superService;
    this.#keys = new KeyCache({
      ttlMs: KEY_CACHE_TTL_MS,
      maxEntries: KEY_CACHE_ENTRIES,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** The key a service signs its requests with, or undefined for an unknown service (both cached briefly). */
  async keyOf(serviceId: string): Promise<string | undefined> {
    if (serviceId === this.#super.id) return this.#super.key;
    return this.#keys.get(serviceId, async () => {
      const record = await this.#store.get(serviceId);
      return record && this.#sealer.unseal(record.sealedKey);
    });
  }

  isSuper(serviceId: string): boolean {
    return serviceId === this.#super.id;
  }

  async create(caller: Caller, name: string): Promise<ServiceView & { key: string }> {
    requireSuper(caller);
    const key = newSecret();
    const record: ServiceRecord = {
      id: randomUUID(),
      name,
      sealedKey: this.#sealer.seal(key),
      createdAt: new Date().toISOString(),
    };
    await this.#store.create(record);
    this.#keys.invalidate(record.id);
    return { ...view(record), key };
  }

  async list(caller: Caller, page: PageRequest): Promise<Page<ServiceView>> {
    requireSuper(caller);
    const result = await this.#store.list(page);
    return { ...result, items: result.items.map(view) };
  }

  async get(caller: Caller, id: string): Promise<ServiceView> {
    if (!caller.isSuper && caller.serviceId !== id)
      throw new PermissionError('a service can only read itself');
    const record = await this.#store.get(id);
    if (!record) throw new NotFoundError(ErrorCodes.serviceNotFound, `service ${id} not found`);
    return view(record);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    requireSuper(caller);
    const deleted = await this.#store.delete(id);
    // In this process the key stops working at once; elsewhere within KEY_CACHE_TTL_MS.
    this.#keys.invalidate(id);
    if (!deleted) throw new NotFoundError(ErrorCodes.serviceNotFound, `service ${id} not found`);
  }
}

function requireSuper(caller: Caller): void {
  if (!caller.isSuper) throw new PermissionError('only the super service manages services');
}

const view = (r: ServiceRecord): ServiceView => ({ id: r.id, name: r.name, createdAt: r.createdAt });
