import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, Stripe-style: HMAC-SHA256 under the service's webhook secret over
 * `<timestamp>.<body>`, sent as `v1=<hex>`. The timestamp is signed too, so a captured request
 * cannot be replayed after the receiver's tolerance (docs/operations.md has the receiver's side).
 */
export const WebhookHeaders = {
  id: 'tessera-event-id',
  timestamp: 'tessera-timestamp',
  signature: 'tessera-signature',
} as const;

export function signature(secret: string, timestampS: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/** The headers of one delivery attempt (a fresh timestamp each attempt; the event id stays). */
export function signedHeaders(
  secret: string,
  eventId: string,
  body: string,
  nowMs = Date.now(),
): Record<string, string> {
  const t = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    [WebhookHeaders.id]: eventId,
    [WebhookHeaders.timestamp]: String(t),
    [WebhookHeaders.signature]: signature(secret, t, body),
  };
}

/** Whether a received webhook is genuine and fresh (what a receiver runs; tests use it too). */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  options: { toleranceS?: number; nowMs?: number } = {},
): boolean {
  const t = Number(headers.timestamp);
  if (!Number.isInteger(t) || !headers.signature) return false;
  const now = (options.nowMs ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (options.toleranceS ?? 300)) return false;
  const expected = Buffer.from(signature(secret, t, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Capped exponential backoff with full jitter: uniform in [0, min(cap, base·2^attempt)). */
export function backoffMs(
  attempt: number,
  options: { baseMs: number; capMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
