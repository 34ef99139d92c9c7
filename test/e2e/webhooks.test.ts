import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookHeaders } from '../../functions/webhooks/signing.ts';
import { EventSchema, type TesseraEvent } from '../../shared/protocol/events.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { bearer, roomBody } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { freePort } from '../harness/ports.ts';

interface Delivery {
  id: string;
  verified: boolean;
  status: number;
  event: TesseraEvent;
}

/** A webhook receiver on 127.0.0.1 that can go away and come back on the same port. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  /** Event types to answer 500 the first time (a forced retry). */
  readonly failOnce = new Set<string>();
  secret = '';
  #server: Server | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Events answered 200, each once (receivers deduplicate on the id). */
  get events(): TesseraEvent[] {
    const seen = new Map<string, TesseraEvent>();
    for (const d of this.deliveries) if (d.status === 200 && !seen.has(d.id)) seen.set(d.id, d.event);
    return [...seen.values()];
  }

  has(type: string, user?: string): boolean {
    return this.events.some(
      (e) => e.type === type && (!user || ('participant' in e.data && e.data.participant.user === user)),
    );
  }

  async up(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const header = (name: string) => req.headers[name] as string | undefined;
        const verified = verifyWebhook(
          this.secret,
          { timestamp: header(WebhookHeaders.timestamp), signature: header(WebhookHeaders.signature) },
          body,
        );
        const event = EventSchema.parse(JSON.parse(body));
        const status = this.failOnce.delete(event.type) ? 500 : 200;
        this.deliveries.push({ id: header(WebhookHeaders.id) ?? '', verified, status, event });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** Gone: connections are refused until `up` again. */
  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    this.#server = undefined;
  }
}

const join = (page: Page, url: string, token: string) =>
  page.evaluate(([u, t]) => window.peer.join(u, t), [url, token] as const) as Promise<{ id: string }>;

describe('webhooks on the embedded server (Chromium session)', () => {
  const suite = browserSuite(() => startEmbedded({ WEBHOOK_ALLOW_PRIVATE_URLS: 'on' }));

  it('delivers signed participant, stream and room events at least once, through a receiver outage', async () => {
    const { url, system } = suite.target;
    const receiver = new Receiver(await freePort());
    await receiver.up();
    const superAuth = await bearer(system.superService.id, system.superService.key);
    const json = { 'content-type': 'application/json' };

    // A tenant with a webhook; its secret is shown once.
    const created = await fetch(`${url}/v1/services`, {
      method: 'POST',
      headers: { authorization: superAuth, ...json },
      body: JSON.stringify({ name: 'hooked' }),
    });
    const service = (await created.json()) as { id: string; key: string };
    const auth = await bearer(service.id, service.key);
    const refused = await fetch(`${url}/v1/services/${service.id}/webhook`, {
      method: 'PUT',
      headers: { authorization: auth, ...json },
      body: JSON.stringify({ url: 'ftp://127.0.0.1/hook' }),
    });
    expect(refused.status).toBe(400);
    const set = await fetch(`${url}/v1/services/${service.id}/webhook`, {
      method: 'PUT',
      headers: { authorization: auth, ...json },
      body: JSON.stringify({ url: receiver.url }),
    });
    expect(set.status).toBe(200);
    receiver.secret = ((await set.json()) as { secret: string }).secret;
    expect(receiver.secret.length).toBeGreaterThanOrEqual(32);
    const shown = await (
      await fetch(`${url}/v1/services/${service.id}/webhook`, { headers: { authorization: auth } })
    ).json();
    expect(shown).toEqual({ url: receiver.url, updatedAt: expect.any(String) });

    const token = async (user: string) => {
      await fetch(`${url}/v1/rooms`, {
        method: 'POST',
        headers: { authorization: auth, ...json },
        body: JSON.stringify(roomBody('hooked-room')),
      });
      const res = await fetch(`${url}/v1/rooms/hooked-room/tokens`, {
        method: 'POST',
        headers: { authorization: auth, ...json },
        body: JSON.stringify({ user, role: 'presenter' }),
      });
      return ((await res.json()) as { token: string }).token;
    };

    // Ana joins and publishes; the receiver refuses the first stream.added once: it comes again.
    receiver.failOnce.add('stream.added');
    const a = await openPeer(suite.browser, suite.pages);
    await join(a, url, await token('ana'));
    await eventually(
      async () => receiver.events,
      (e) =>
        e.filter((x) => x.type === 'stream.added').length === 2 && receiver.has('participant.joined', 'ana'),
      30_000,
    );
    const refusedOnce = receiver.deliveries.find((d) => d.status === 500)!;
    expect(refusedOnce.event.type).toBe('stream.added');
    const again = receiver.deliveries.filter((d) => d.id === refusedOnce.id);
    expect(again.map((d) => d.status)).toEqual([500, 200]);
    expect(again[1]!.event).toEqual(refusedOnce.event);

    // Pausing a stream (REST) is an update.
    const audio = receiver.events.find((e) => e.type === 'stream.added' && e.data.stream.kind === 'audio')!;
    const streamId = audio.type === 'stream.added' ? audio.data.stream.id : '';
    const paused = await fetch(`${url}/v1/rooms/hooked-room/streams/${streamId}`, {
      method: 'PATCH',
      headers: { authorization: auth, ...json },
      body: JSON.stringify([{ op: 'replace', path: '/media/audio/status', value: 'inactive' }]),
    });
    expect(paused.status).toBe(200);
    await eventually(
      async () => receiver.events,
      (e) =>
        e.some((x) => x.type === 'stream.updated' && x.data.stream.id === streamId && x.data.stream.paused),
      20_000,
    );

    // The receiver is down for 10 s while Ben comes and goes: everything arrives after it is back.
    await receiver.down();
    const b = await openPeer(suite.browser, suite.pages);
    await join(b, url, await token('ben'));
    await eventually(
      () => a.evaluate(() => window.peer.participants()),
      (users) => users.includes('ben'),
    );
    await b.evaluate(() => window.peer.leave());
    await new Promise((r) => setTimeout(r, 10_000));
    await receiver.up();
    await eventually(
      async () => receiver.events,
      () =>
        receiver.has('participant.left', 'ben') &&
        receiver.events.filter((e) => e.type === 'stream.removed').length === 2,
      40_000,
    );
    expect(receiver.has('participant.joined', 'ben')).toBe(true);

    // Ana leaves: the room empties and finishes.
    await a.evaluate(() => window.peer.leave());
    await eventually(
      async () => receiver.events,
      () => receiver.has('room.finished'),
      30_000,
    );
    await receiver.down();

    const events = receiver.events;
    expect(events.filter((e) => e.type === 'stream.added')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'stream.removed')).toHaveLength(4);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['room.started', 'participant.joined', 'participant.left', 'room.finished']),
    );
    for (const e of events) expect(e).toMatchObject({ serviceId: service.id, roomId: 'hooked-room' });
    // Every delivery was signed with the service's secret; the secret reached no log.
    expect(receiver.deliveries.every((d) => d.verified)).toBe(true);
    expect(suite.target.logs.join('\n')).not.toContain(receiver.secret);
  }, 240_000);
});
