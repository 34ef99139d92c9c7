import { ErrorCodes, NotFoundError, PermissionError, ValidationError } from '../../shared/errors.ts';
import { isPrivateHost } from '../../shared/net/addresses.ts';
import type { ServiceStore } from '../../shared/ports/durable.ts';
import type { Caller } from '../services/ServiceRegistry.ts';
import { type KeySealer, newSecret } from '../services/secrets.ts';
import type { WebhookTarget } from './WebhookDispatcher.ts';

export interface WebhookView {
  url: string;
  updatedAt: string;
}

/** How long a looked-up webhook (or its absence) is trusted by the dispatcher. */
const CACHE_MS = 5000;
const CACHE_ENTRIES = 1000;

/**
 * Each service's webhook: a URL and a secret, stored on the service record with the secret
 * sealed. The secret is shown once, when set; never logged, never returned after.
 */
export class WebhookSettings {
  readonly #store: ServiceStore;
  readonly #sealer: KeySealer;
  readonly #allowPrivate: boolean;
  readonly #cache = new Map<string, { at: number; target: Promise<WebhookTarget | undefined> }>();

  constructor(store: ServiceStore, sealer: KeySealer, options: { allowPrivateUrls?: boolean } = {}) {
    this.#store = store;
    this.#sealer = sealer;
    this.#allowPrivate = options.allowPrivateUrls ?? false;
  }

  async set(
    caller: Caller,
    serviceId: string,
    request: { url: string; secret?: string | undefined },
  ): Promise<WebhookView & { secret: string }> {
    authorize(caller, serviceId);
    const url = this.#checkUrl(request.url);
    const secret = request.secret ?? newSecret();
    const updatedAt = new Date().toISOString();
    const found = await this.#store.setWebhook(serviceId, {
      url,
      sealedSecret: this.#sealer.seal(secret),
      updatedAt,
    });
    if (!found) throw new NotFoundError(ErrorCodes.serviceNotFound, `service ${serviceId} not found`);
    this.#cache.delete(serviceId);
    return { url, updatedAt, secret };
  }

  async get(caller: Caller, serviceId: string): Promise<WebhookView> {
    authorize(caller, serviceId);
    const record = await this.#store.get(serviceId);
    if (!record) throw new NotFoundError(ErrorCodes.serviceNotFound, `service ${serviceId} not found`);
    if (!record.webhook) throw new NotFoundError(ErrorCodes.notFound, `service ${serviceId} has no webhook`);
    return { url: record.webhook.url, updatedAt: record.webhook.updatedAt };
  }

  async delete(caller: Caller, serviceId: string): Promise<void> {
    authorize(caller, serviceId);
    if (!(await this.#store.setWebhook(serviceId, undefined)))
      throw new NotFoundError(ErrorCodes.serviceNotFound, `service ${serviceId} not found`);
    this.#cache.delete(serviceId);
  }

  /** The webhook the dispatcher posts to (cached for a few seconds; bounded). */
  targetOf(serviceId: string): Promise<WebhookTarget | undefined> {
    const now = Date.now();
    const hit = this.#cache.get(serviceId);
    if (hit && now - hit.at < CACHE_MS) return hit.target;
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    const target = this.#store
      .get(serviceId)
      .then((record) =>
        record?.webhook
          ? { url: record.webhook.url, secret: this.#sealer.unseal(record.webhook.sealedSecret) }
          : undefined,
      );
    // A failed lookup is not remembered: the next event asks again.
    target.catch(() => this.#cache.delete(serviceId));
    this.#cache.delete(serviceId);
    this.#cache.set(serviceId, { at: now, target });
    return target;
  }

  #checkUrl(raw: string): string {
    const invalid = (message: string) => new ValidationError(message, [{ path: 'url', message }]);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid('url must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url must use http or https');
    if (url.username || url.password) throw invalid('url must not carry credentials');
    if (!this.#allowPrivate && isPrivateHost(url.hostname))
      throw invalid('url must not point at a loopback, private or link-local address');
    return url.toString();
  }
}

function authorize(caller: Caller, serviceId: string): void {
  if (!caller.isSuper && caller.serviceId !== serviceId)
    throw new PermissionError('a service manages only its own webhook');
}
