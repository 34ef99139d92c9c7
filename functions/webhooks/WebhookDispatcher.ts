import type { Logger } from '../../shared/logger.ts';
import type { TesseraEvent } from '../../shared/protocol/events.ts';
import { backoffMs, signedHeaders } from './signing.ts';

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface WebhookDispatcherOptions {
  /** The service's webhook, or undefined when it has none. */
  targetOf(serviceId: string): Promise<WebhookTarget | undefined>;
  logger: Logger;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts per event before it is given up (in process; SQS counts its own). */
  maxAttempts?: number;
  baseMs?: number;
  capMs?: number;
  /** Events waiting per endpoint; the oldest go beyond it. */
  maxQueuedPerEndpoint?: number;
  /** Endpoints with events waiting at once; events for further ones are dropped. */
  maxEndpoints?: number;
}

export type DeliveryResult = 'delivered' | 'failed' | 'no-webhook';

/**
 * Delivers events to their service's webhook: one signed POST per event, retried with capped
 * exponential backoff and full jitter until a 2xx. At least once: an event may arrive twice
 * (a timeout after the receiver took it), always with the same event id. Each endpoint has its
 * own bounded queue and one request in flight, so a dead endpoint delays only its own events
 * and never whoever calls `dispatch` (the media path).
 */
export class WebhookDispatcher {
  readonly #o: Required<Omit<WebhookDispatcherOptions, 'targetOf' | 'logger'>> &
    Pick<WebhookDispatcherOptions, 'targetOf' | 'logger'>;
  readonly #queues = new Map<string, { target: WebhookTarget; events: TesseraEvent[] }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = {
      timeoutMs: 5000,
      maxAttempts: 15,
      baseMs: 500,
      capMs: 10_000,
      maxQueuedPerEndpoint: 1000,
      maxEndpoints: 1000,
      ...options,
    };
  }

  /** Queues an event for its service's webhook, if any; returns at once and never throws. */
  dispatch(event: TesseraEvent): void {
    const serviceId = event.serviceId;
    if (!serviceId || this.#closed) return;
    this.#o
      .targetOf(serviceId)
      .then((target) => target && this.#enqueue(target, event))
      .catch((error) => this.#o.logger.warn('webhook lookup failed', { serviceId, error }));
  }

  /**
   * One signed attempt. Never throws: a network error, a timeout or a non-2xx answer is
   * 'failed'. The Lambda calls this and leaves retries to SQS.
   */
  async deliver(target: WebhookTarget, event: TesseraEvent): Promise<Exclude<DeliveryResult, 'no-webhook'>> {
    const body = JSON.stringify(event);
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: signedHeaders(target.secret, event.id, body),
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      return response.ok ? 'delivered' : 'failed';
    } catch {
      return 'failed';
    }
  }

  /** Delivers to the event's service's webhook once (no retry here). */
  async deliverOnce(event: TesseraEvent): Promise<DeliveryResult> {
    const target = event.serviceId ? await this.#o.targetOf(event.serviceId) : undefined;
    return target ? this.deliver(target, event) : 'no-webhook';
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#queues.clear();
  }

  #enqueue(target: WebhookTarget, event: TesseraEvent): void {
    if (this.#closed) return;
    const key = `${target.url} ${target.secret}`;
    const queue = this.#queues.get(key);
    if (queue) {
      queue.events.push(event);
      if (queue.events.length > this.#o.maxQueuedPerEndpoint) {
        // Index 0 is in flight: drop the oldest one waiting behind it.
        queue.events.splice(1, 1);
        this.#o.logger.warn('webhook event dropped: endpoint queue full', { url: redact(target.url) });
      }
      return;
    }
    if (this.#queues.size >= this.#o.maxEndpoints) {
      this.#o.logger.warn('webhook event dropped: too many endpoints waiting', { url: redact(target.url) });
      return;
    }
    this.#queues.set(key, { target, events: [event] });
    void this.#drain(key, 0);
  }

  async #drain(key: string, attempt: number): Promise<void> {
    const queue = this.#queues.get(key);
    const event = queue?.events[0];
    if (!queue || !event || this.#closed) {
      this.#queues.delete(key);
      return;
    }
    const result = await this.deliver(queue.target, event);
    if (this.#closed) return;
    let next = 0;
    if (result === 'delivered' || attempt + 1 >= this.#o.maxAttempts) {
      if (result !== 'delivered')
        this.#o.logger.warn('webhook event given up', {
          url: redact(queue.target.url),
          eventId: event.id,
          attempts: attempt + 1,
        });
      queue.events.shift();
    } else next = attempt + 1;
    if (queue.events.length === 0) {
      this.#queues.delete(key);
      return;
    }
    const delay = next === 0 ? 0 : backoffMs(next - 1, { baseMs: this.#o.baseMs, capMs: this.#o.capMs });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#drain(key, next);
    }, delay);
    this.#timers.add(timer);
  }
}

/** A URL for logs: origin and path only (a query may carry a token). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
