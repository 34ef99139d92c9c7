import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { EventSchema, type TesseraEvent } from '../../shared/protocol/events.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { bearer, roomBody } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { freePort } from '../harness/ports.ts';

type Joined = { id: string; published: { audio: string; video: string; stream?: string } };
const join = (page: Page, url: string, token: string, options: { oneStream?: boolean } = {}) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const) as Promise<Joined>;

const dir = mkdtempSync(joinPath(tmpdir(), 'tessera-recordings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Probed = { codec_type: string; codec_name: string; width?: number; height?: number };

/** Streams and duration of a media file, as ffprobe reads it. */
function probe(file: string): { kinds: string[]; seconds: number; streams: Probed[] } {
  const entries = 'stream=codec_type,codec_name,width,height:format=duration';
  const out = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', file], {
      encoding: 'utf8',
    }),
  ) as { streams: Probed[]; format: { duration?: string } };
  return {
    kinds: out.streams.map((s) => s.codec_type).sort(),
    seconds: Number(out.format.duration ?? 0),
    streams: out.streams,
  };
}

/** Issue #14, recordings over REST (OWT's /recordings) on the embedded server, a Chromium publisher. */
describe('recordings over REST (embedded server, one Chromium participant)', () => {
  const suite = browserSuite(() => startEmbedded({ RECORDINGS_DIR: dir, WEBHOOK_ALLOW_PRIVATE_URLS: 'on' }));

  /** The tenant the test acts as (a service of its own, with a webhook). */
  let tenant = { id: '', key: '' };
  const call = async (auth: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${suite.target.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: res.status,
      body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>),
    };
  };
  const rest = async (method: string, path: string, body?: unknown) =>
    call(await bearer(tenant.id, tenant.key), method, path, body);

  it('records a participant’s camera and microphone into mkv: status, size, duration and file over REST, recording.* webhooks, clear refusals', async () => {
    // The service's webhook: recording.* events arrive there.
    const events: TesseraEvent[] = [];
    const port = await freePort();
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        events.push(EventSchema.parse(JSON.parse(body)));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
    const { id, key } = suite.target.system.superService;
    const created = await call(await bearer(id, key), 'POST', '/v1/services', { name: 'recorded' });
    tenant = created.body as typeof tenant;
    const hook = await rest('PUT', `/v1/services/${tenant.id}/webhook`, {
      url: `http://127.0.0.1:${port}/hook`,
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(200);
    expect((await rest('POST', '/v1/rooms', roomBody('rec-1'))).status).toBe(201);
    const token = (await rest('POST', '/v1/rooms/rec-1/tokens', { user: 'ana', role: 'presenter' })).body!
      .token as string;

    try {
      const page = await openPeer(suite.browser, suite.pages);
      const ana = await join(page, suite.target.url, token, { oneStream: true });
      const stream = (
        await eventually(
          async () => (await rest('GET', '/v1/rooms/rec-1/streams')).body as unknown as Stream[],
          (l) => l.length === 1 && !!l[0]!.media.audio && !!l[0]!.media.video,
        )
      )[0]!;
      expect(stream.info.owner).toBe(ana.id);

      // Refused clearly, nothing started: a codec the container cannot hold, a stream that is not
      // there, transcoding parameters, a body that is no recording request.
      const codec = stream.media.video!.format.codec.toLowerCase();
      const webmRefused = ['h264', 'h265'].includes(codec);
      const refusedContainer = webmRefused ? 'webm' : 'mp4';
      const badContainer = await rest('POST', '/v1/rooms/rec-1/recordings', {
        container: refusedContainer,
        media: { audio: { from: stream.id }, video: { from: stream.id } },
      });
      expect(badContainer.status, JSON.stringify(badContainer.body)).toBe(400);
      expect(badContainer.body).toMatchObject({ error: { code: 1301 } });
      const missing = await rest('POST', '/v1/rooms/rec-1/recordings', {
        media: { video: { from: 'nope' } },
      });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: { code: 1004 } });
      // Re-encoding the room does not list (a frame rate), or a codec not encoded here.
      const unlisted = await rest('POST', '/v1/rooms/rec-1/recordings', {
        media: { video: { from: stream.id, parameters: { framerate: 10 } } },
      });
      expect([unlisted.status, unlisted.body]).toMatchObject([400, { error: { code: 1301 } }]);
      for (const media of [
        { video: { from: stream.id, format: { codec: 'h265' } } },
        { audio: { from: stream.id, format: { codec: 'ilbc' } } },
      ]) {
        const refused = await rest('POST', '/v1/rooms/rec-1/recordings', { media });
        expect([refused.status, refused.body], JSON.stringify(media)).toMatchObject([
          501,
          { error: { code: 1202 } },
        ]);
      }
      expect(
        (await rest('POST', '/v1/rooms/rec-1/recordings', { media: { audio: false, video: false } })).status,
      ).toBe(400);
      expect((await rest('GET', '/v1/rooms/rec-1/recordings')).body).toEqual([]);

      // Start: the record answers at once (starting), then the node's first frame makes it recording.
      const started = await rest('POST', '/v1/rooms/rec-1/recordings', {
        container: 'mkv',
        media: { audio: { from: stream.id }, video: { from: stream.id } },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const recording = started.body as unknown as Recording;
      expect(recording).toMatchObject({
        roomId: 'rec-1',
        container: 'mkv',
        status: 'starting',
        media: {
          audio: { from: stream.id, format: { codec: 'opus' } },
          video: { from: stream.id, format: { codec } },
        },
        storage: { file: `${recording.id}.mkv` },
      });
      expect(recording).not.toHaveProperty('nodeId');
      const path = `/v1/rooms/rec-1/recordings/${recording.id}`;
      const running = await eventually(
        async () => (await rest('GET', path)).body as unknown as Recording,
        (r) => r.status === 'recording',
        20_000,
      );
      expect(running.status).toBe('recording');
      const recordingSince = Date.now();
      await new Promise((r) => setTimeout(r, 4000));
      // OWT's PATCH: a source that is not in the room is 404 and video parameters (a recording
      // keeps those it started with) 501; the recording runs on as it was (switching itself: Recorder.test.ts).
      const nowhere = await rest('PATCH', path, [
        { op: 'replace', path: '/media/video/from', value: 'nope' },
      ]);
      expect([nowhere.status, nowhere.body]).toMatchObject([404, { error: { code: 1004 } }]);
      const resized = await rest('PATCH', path, [
        { op: 'replace', path: '/media/video/parameters/resolution', value: { width: 320, height: 240 } },
      ]);
      expect([resized.status, resized.body]).toMatchObject([501, { error: { code: 1202 } }]);
      expect(((await rest('GET', path)).body as unknown as Recording).media.video?.from).toBe(stream.id);

      expect((await rest('DELETE', path)).status).toBe(204);
      const recordedMs = Date.now() - recordingSince;
      const ended = await eventually(
        async () => (await rest('GET', path)).body as unknown as Recording,
        (r) => r.status === 'stopped',
        20_000,
      );
      console.log(`[recordings] ${JSON.stringify({ ...ended, recordedMs })}`);
      expect(ended.status).toBe('stopped');
      expect(ended.endedAt).toBeDefined();
      expect(ended.files).toHaveLength(1);
      expect(ended.bytes).toBeGreaterThan(10_000);
      expect(ended.bytes).toBe(ended.files[0]!.bytes);
      // The media time written, against the wall-clock time between first frame and stop.
      expect(Math.abs(ended.durationMs - recordedMs)).toBeLessThan(1500);
      const file = ended.files[0]!.location;
      expect(existsSync(file)).toBe(true);
      const media = probe(file);
      expect(media.kinds).toEqual(['audio', 'video']);
      expect(Math.abs(media.seconds * 1000 - ended.durationMs)).toBeLessThan(1000);
      // Stopping again changes nothing; the list keeps the ended recording.
      expect((await rest('DELETE', path)).status).toBe(204);
      expect(
        ((await rest('GET', '/v1/rooms/rec-1/recordings')).body as unknown as Recording[]).map((r) => r.id),
      ).toEqual([recording.id]);

      // The webhook heard it start and end, with what it wrote.
      const mine = await eventually(
        async () => events.filter((e) => e.type.startsWith('recording.') && 'recording' in e.data),
        (l) => l.some((e) => e.type === 'recording.ended'),
        10_000,
      );
      expect(mine.map((e) => e.type)).toEqual(['recording.started', 'recording.ended']);
      const end = mine[1]!;
      if (end.type !== 'recording.ended') throw new Error('unreachable');
      expect(end).toMatchObject({
        roomId: 'rec-1',
        data: { recording: { id: recording.id, bytes: ended.bytes } },
      });

      // Re-encoded (OWT's format and parameters): H.264 320×240 at 15 fps with AAC, which OWT's
      // `auto` puts in mp4, whatever the camera sends.
      const encoded = await rest('POST', '/v1/rooms/rec-1/recordings', {
        container: 'auto',
        media: {
          audio: { from: stream.id, format: { codec: 'aac' } },
          video: {
            from: stream.id,
            format: { codec: 'h264' },
            parameters: { resolution: { width: 320, height: 240 }, framerate: 15 },
          },
        },
      });
      expect(encoded.status, JSON.stringify(encoded.body)).toBe(201);
      const transcoded = encoded.body as unknown as Recording;
      expect(transcoded).toMatchObject({
        container: 'mp4',
        media: { audio: { format: { codec: 'aac' } }, video: { format: { codec: 'h264' } } },
      });
      const encodedPath = `/v1/rooms/rec-1/recordings/${transcoded.id}`;
      await eventually(
        async () => (await rest('GET', encodedPath)).body as unknown as Recording,
        (r) => r.status === 'recording',
        20_000,
      );
      await new Promise((r) => setTimeout(r, 3000));
      expect((await rest('DELETE', encodedPath)).status).toBe(204);
      const encodedEnd = await eventually(
        async () => (await rest('GET', encodedPath)).body as unknown as Recording,
        (r) => r.status === 'stopped',
        20_000,
      );
      const read = probe(encodedEnd.files[0]!.location);
      console.log(
        `[recordings] re-encoded: ${JSON.stringify({ ...read, durationMs: encodedEnd.durationMs })}`,
      );
      expect(read.streams.find((t) => t.codec_type === 'video')).toMatchObject({
        codec_name: 'h264',
        width: 320,
        height: 240,
      });
      expect(read.streams.find((t) => t.codec_type === 'audio')?.codec_name).toBe('aac');
      expect(read.seconds).toBeGreaterThan(2);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  }, 90_000);
});
