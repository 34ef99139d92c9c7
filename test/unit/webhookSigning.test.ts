import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  signature,
  signedHeaders,
  verifyWebhook,
  WebhookHeaders,
} from '../../functions/webhooks/signing.ts';
import { isPrivateHost } from '../../shared/net/addresses.ts';

const secret = 'whsec-test-0123456789abcdefghijklmnopqrstuv';
const body = JSON.stringify({ v: 1, id: 'e1', type: 'room.started' });

describe('webhook signing', () => {
  it('signs timestamp.body with HMAC-SHA256, and the receiver verifies it', () => {
    const now = 1_800_000_000_000;
    const headers = signedHeaders(secret, 'event-1', body, now);
    expect(headers[WebhookHeaders.id]).toBe('event-1');
    expect(headers[WebhookHeaders.timestamp]).toBe('1800000000');
    expect(headers[WebhookHeaders.signature]).toMatch(/^v1=[0-9a-f]{64}$/);
    const received = {
      timestamp: headers[WebhookHeaders.timestamp],
      signature: headers[WebhookHeaders.signature],
    };
    expect(verifyWebhook(secret, received, body, { nowMs: now + 10_000 })).toBe(true);
  });

  it('refuses a changed body, another secret, a changed timestamp and a stale request', () => {
    const now = 1_800_000_000_000;
    const h = signedHeaders(secret, 'event-1', body, now);
    const received = { timestamp: h[WebhookHeaders.timestamp], signature: h[WebhookHeaders.signature] };
    expect(verifyWebhook(secret, received, `${body} `, { nowMs: now })).toBe(false);
    expect(verifyWebhook(`${secret}x`, received, body, { nowMs: now })).toBe(false);
    expect(verifyWebhook(secret, { ...received, timestamp: '1800000001' }, body, { nowMs: now })).toBe(false);
    expect(verifyWebhook(secret, received, body, { nowMs: now + 301_000 })).toBe(false);
    expect(verifyWebhook(secret, { timestamp: undefined, signature: undefined }, body)).toBe(false);
    expect(signature(secret, 1, body)).not.toBe(signature(secret, 2, body));
  });
});

describe('webhook retry backoff', () => {
  it('grows exponentially, is capped, and is fully jittered', () => {
    const o = { baseMs: 500, capMs: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => backoffMs(a, o, () => 0.999999))).toEqual([
      499, 999, 1999, 3999, 7999, 9999, 9999,
    ]);
    expect(backoffMs(3, o, () => 0)).toBe(0);
    const draws = Array.from({ length: 200 }, () => backoffMs(4, o));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(8000);
    expect(new Set(draws).size).toBeGreaterThan(50);
    expect(backoffMs(1000, o, () => 0.5)).toBe(5000);
  });
});

describe('webhook URL hosts', () => {
  it('knows loopback, private and link-local hosts from public ones', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '[::1]',
      'fd00::1',
    ])
      expect(isPrivateHost(host), host).toBe(true);
    for (const host of ['example.com', '8.8.8.8', '172.32.0.1', '[2001:db8::1]'])
      expect(isPrivateHost(host), host).toBe(false);
  });
});
