// The HLS pull's network side (issue #14) against a real HTTP server on loopback: guardedGet
// refuses what a client-given URL must not reach (schemes, link-local and private addresses by
// literal, by what a name resolves to, or behind a redirect), and HlsFeed follows a live playlist
// the way a player does, writing each segment once and in order.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HlsFeed } from '../../media-node/streaming/HlsFeed.ts';
import { guardedGet, UrlRefusedError } from '../../shared/net/guardedGet.ts';

/** What the server answers, by path: a body, or a redirect target. */
const routes = new Map<string, string | { location: string }>();
const hits: string[] = [];
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.push(path);
    const route = routes.get(path);
    if (route === undefined) res.writeHead(404).end();
    else if (typeof route === 'string') res.writeHead(200).end(route);
    else res.writeHead(302, { location: route.location }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

const get = (url: string, allowPrivate = true, lookup?: LookupFunction) =>
  guardedGet(url, { allowPrivate, maxBytes: 1000, timeoutMs: 2000, ...(lookup ? { lookup } : {}) });

/** A resolver that answers `address` for every name. */
const resolvesTo =
  (address: string): LookupFunction =>
  (_name, _options, callback) =>
    (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address, family: address.includes(':') ? 6 : 4 },
    ]);

describe('guardedGet: a client-given URL fetched from inside the network', () => {
  it('fetches an allowed URL and follows a redirect, reporting where the body came from', async () => {
    routes.set('/a', 'alpha');
    routes.set('/r', { location: '/a' });
    const answer = await get(`${origin}/r`);
    expect([answer.body.toString(), answer.url]).toEqual(['alpha', `${origin}/a`]);
  });

  it('refuses other schemes, link-local always, loopback unless allowed, and checks each redirect hop', async () => {
    await expect(get('file:///etc/passwd')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(get('ftp://example.com/x')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(get('http://169.254.169.254/latest/meta-data/')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(get('http://[fe80::1]/x')).rejects.toBeInstanceOf(UrlRefusedError);
    routes.set('/a', 'alpha');
    await expect(get(`${origin}/a`, false)).rejects.toBeInstanceOf(UrlRefusedError);
    routes.set('/to-metadata', { location: 'http://169.254.169.254/latest/meta-data/' });
    await expect(get(`${origin}/to-metadata`)).rejects.toThrow(/link-local/);
    routes.set('/to-file', { location: 'file:///etc/passwd' });
    await expect(get(`${origin}/to-file`)).rejects.toBeInstanceOf(UrlRefusedError);
  });

  it('judges a name by the addresses it resolves to, where it connects (no check-then-connect gap)', async () => {
    const before = hits.length;
    await expect(get('http://cameras.example.com/x', true, resolvesTo('169.254.169.254'))).rejects.toThrow(
      /link-local/,
    );
    await expect(get('http://cameras.example.com/x', false, resolvesTo('10.1.2.3'))).rejects.toThrow(
      /loopback or private/,
    );
    // A public-looking name that resolves to this server is refused when private addresses are not allowed…
    routes.set('/a', 'alpha');
    const port = new URL(origin).port;
    await expect(get(`http://cameras.example.com:${port}/a`, false, resolvesTo('127.0.0.1'))).rejects.toThrow(
      /loopback or private/,
    );
    expect(hits.length).toBe(before);
    // …and reached when they are.
    const allowed = await get(`http://cameras.example.com:${port}/a`, true, resolvesTo('127.0.0.1'));
    expect(allowed.body.toString()).toBe('alpha');
  });

  it('caps the body and reports HTTP errors without the URL', async () => {
    routes.set('/big', 'x'.repeat(5000));
    await expect(get(`${origin}/big?token=secret`)).rejects.toThrow(/larger than 1000 bytes/);
    const missing = await get(`${origin}/missing?token=secret`).catch((e: Error) => e);
    expect(String(missing)).toMatch(/HTTP 404/);
    expect(String(missing)).not.toContain('secret');
  });
});

/** A media playlist of `segments` (`[sequence, body]`), live unless `endlist`. */
function mediaPlaylist(
  first: number,
  count: number,
  options: { endlist?: boolean; extra?: string } = {},
): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${first}`];
  if (options.extra) lines.push(options.extra);
  for (let n = first; n < first + count; n++) {
    routes.set(`/live/seg${n}.ts`, `<${n}>`);
    lines.push('#EXTINF:1.0,', `seg${n}.ts`);
  }
  if (options.endlist) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

function collect(out: PassThrough): () => string {
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

const until = async (check: () => boolean, ms: number) => {
  for (const start = Date.now(); !check() && Date.now() - start < ms; )
    await new Promise((r) => setTimeout(r, 50));
};

describe('HlsFeed: an HLS source pulled as one byte stream', () => {
  it('follows a master playlist to its best variant up to 1080p and a live playlist from 3 segments before its end, each segment once and in order', async () => {
    routes.set(
      '/master.m3u8',
      [
        '#EXTM3U',
        '#EXT-X-STREAM-INF:BANDWIDTH=9000000,RESOLUTION=3840x2160',
        'uhd/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1920x1080',
        'live/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360',
        'low/index.m3u8',
      ].join('\n'),
    );
    routes.set('/live/index.m3u8', mediaPlaylist(10, 5));
    const out = new PassThrough();
    const text = collect(out);
    const feed = new HlsFeed({ url: `${origin}/master.m3u8`, out, allowPrivate: true });
    const errors: Error[] = [];
    feed.on('error', (e) => errors.push(e));
    try {
      await until(() => text() === '<12><13><14>', 3000);
      expect(text()).toBe('<12><13><14>');
      // The playlist slides on: only the new segments follow, whatever the window still shows.
      routes.set('/live/index.m3u8', mediaPlaylist(13, 4));
      await until(() => text().endsWith('<16>'), 4000);
      expect(text()).toBe('<12><13><14><15><16>');
      expect(errors).toEqual([]);
      expect(hits.some((h) => h.startsWith('/uhd') || h.startsWith('/low'))).toBe(false);
    } finally {
      feed.close();
    }
  });

  it('writes a VOD playlist from its start to its end, then ends the stream', async () => {
    routes.set('/live/vod.m3u8', mediaPlaylist(0, 3, { endlist: true }));
    const out = new PassThrough();
    const text = collect(out);
    const feed = new HlsFeed({ url: `${origin}/live/vod.m3u8`, out, allowPrivate: true });
    const ended = new Promise<void>((resolve) => out.on('end', resolve));
    out.resume();
    await ended;
    expect(text()).toBe('<0><1><2>');
    feed.close();
  });

  it('stops for good on a segment at a refused address or an encrypted one; an unreachable playlist is worth a retry', async () => {
    const failure = async (playlist: string) => {
      routes.set('/bad.m3u8', playlist);
      const feed = new HlsFeed({ url: `${origin}/bad.m3u8`, out: new PassThrough(), allowPrivate: true });
      return new Promise<Error & { permanent?: boolean }>((resolve) => feed.on('error', resolve));
    };
    const metadata = await failure(
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nhttp://169.254.169.254/latest/meta-data/x.ts\n',
    );
    expect([metadata.permanent, metadata.message]).toEqual([true, expect.stringMatching(/link-local/)]);
    const encrypted = await failure(
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI="key"\n#EXTINF:1.0,\nseg0.ts\n',
    );
    expect([encrypted.permanent, encrypted.message]).toEqual([true, expect.stringMatching(/encrypted/)]);
    const gone = new HlsFeed({ url: `${origin}/nothing.m3u8`, out: new PassThrough(), allowPrivate: true });
    const error = await new Promise<Error & { permanent?: boolean }>((resolve) => gone.on('error', resolve));
    expect([error.permanent, error.message]).toEqual([false, 'HTTP 404']);
  });
});
