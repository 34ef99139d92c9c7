import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import type { Recording } from '../../shared/protocol/http/recording.ts';
import { browserSuite } from '../harness/browserSuite.ts';
import { startLocalCluster } from '../harness/cluster.ts';
import { eventually, openPeer } from '../harness/embedded.ts';
import { startS3 } from '../harness/s3.ts';

const BUCKET = 'tessera-recordings';
const dir = mkdtempSync(joinPath(tmpdir(), 'tessera-recordings-cluster-'));
let s3: Awaited<ReturnType<typeof startS3>> | undefined;
afterAll(async () => {
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Issue #14 in cluster mode: the node uploads the recording to S3 (s3rver), the events reach its record. */
describe('recordings on the local cluster, stored in S3 (s3rver)', () => {
  const suite = browserSuite(async () => {
    s3 = await startS3(BUCKET);
    return startLocalCluster(['node-1'], {
      REDIS_DB: '10',
      RECORDINGS_BUCKET: BUCKET,
      RECORDINGS_DIR: dir,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      // s3rver knows this key only (it checks no v4 signature); DynamoDB Local runs with -sharedDb.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
  });

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${suite.target.url}${path}`, {
      method,
      headers: {
        authorization: await suite.target.superAuth(),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as unknown) };
  };

  it('records over REST; the part goes to the bucket and the record (DynamoDB) shows it, stopped', async () => {
    const page: Page = await openPeer(suite.browser, suite.pages);
    await page.evaluate(([u, t, s]) => window.peer.join(u, t, { signalingUrl: s, oneStream: true }), [
      suite.target.url,
      await suite.target.token('rec-cluster', 'ana'),
      suite.target.signalingUrl,
    ] as const);
    const stream = (
      await eventually(
        async () => (await rest('GET', '/v1/rooms/rec-cluster/streams')).body as Stream[],
        (l) => Array.isArray(l) && l.length === 1 && !!l[0]!.media.video && !!l[0]!.media.audio,
        30_000,
      )
    )[0]!;
    const started = await rest('POST', '/v1/rooms/rec-cluster/recordings', {
      media: { audio: { from: stream.id }, video: { from: stream.id } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const { id } = started.body as Recording;
    const path = `/v1/rooms/rec-cluster/recordings/${id}`;
    await eventually(
      async () => (await rest('GET', path)).body as Recording,
      (r) => r.status === 'recording',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect((await rest('DELETE', path)).status).toBe(204);
    const ended = await eventually(
      async () => (await rest('GET', path)).body as Recording,
      (r) => r.status === 'stopped',
      30_000,
    );
    console.log(`[recordings-cluster] ${JSON.stringify(ended)}`);
    expect(ended).toMatchObject({
      status: 'stopped',
      container: 'mkv',
      files: [{ key: `${id}.mkv`, location: `s3://${BUCKET}/${id}.mkv` }],
    });
    expect(ended.bytes).toBeGreaterThan(10_000);
    expect(ended.durationMs).toBeGreaterThan(2000);

    // The object in the bucket is the file: its size, and it decodes with audio and video.
    const object = await s3!.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${id}.mkv` }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(ended.bytes);
    const file = joinPath(dir, 'downloaded.mkv');
    writeFileSync(file, bytes);
    const probed = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'json', file], {
        encoding: 'utf8',
      }),
    ) as { streams: { codec_type: string }[] };
    expect(probed.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
  }, 120_000);

  it('a node SIGKILLed mid-recording: at its restart the part lands in the bucket, plays up to its last seconds, and the record says what happened', async () => {
    const page: Page = await openPeer(suite.browser, suite.pages);
    await page.evaluate(([u, t, s]) => window.peer.join(u, t, { signalingUrl: s, oneStream: true }), [
      suite.target.url,
      await suite.target.token('rec-kill', 'ben'),
      suite.target.signalingUrl,
    ] as const);
    const stream = (
      await eventually(
        async () => (await rest('GET', '/v1/rooms/rec-kill/streams')).body as Stream[],
        (l) => Array.isArray(l) && l.length === 1 && !!l[0]!.media.video && !!l[0]!.media.audio,
        30_000,
      )
    )[0]!;
    const started = await rest('POST', '/v1/rooms/rec-kill/recordings', {
      container: 'mkv',
      media: { audio: { from: stream.id }, video: { from: stream.id } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const { id } = started.body as Recording;
    const path = `/v1/rooms/rec-kill/recordings/${id}`;
    await eventually(
      async () => (await rest('GET', path)).body as Recording,
      (r) => r.status === 'recording',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 4000));
    const node = suite.target.nodes.get('node-1')!;
    const exited = new Promise((r) => node.once('exit', r));
    node.kill('SIGKILL');
    await exited;
    await suite.target.addNode('node-1');
    const settled = await eventually(
      async () => (await rest('GET', path)).body as Recording,
      (r) => r.status === 'failed',
      40_000,
    );
    console.log(`[recordings-cluster] after SIGKILL and restart ${JSON.stringify(settled)}`);
    expect(settled).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/media node stopped mid-recording/),
      files: [{ key: `${id}.mkv`, location: `s3://${BUCKET}/${id}.mkv` }],
    });
    expect(settled.durationMs).toBeGreaterThan(2000);
    // What the bucket holds decodes: video frames for at least the seconds before the kill but one.
    const object = await s3!.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${id}.mkv` }));
    const file = joinPath(dir, 'killed.mkv');
    writeFileSync(file, Buffer.from(await object.Body!.transformToByteArray()));
    const probed = JSON.parse(
      execFileSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-show_entries',
          'stream=codec_type,nb_read_frames',
          '-of',
          'json',
          file,
        ],
        { encoding: 'utf8' },
      ),
    ) as { streams: { codec_type: string; nb_read_frames: string }[] };
    console.log(`[recordings-cluster] the killed recording decodes ${JSON.stringify(probed.streams)}`);
    expect(probed.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    const videoFrames = Number(probed.streams.find((s) => s.codec_type === 'video')!.nb_read_frames);
    expect(videoFrames).toBeGreaterThan(30);
  }, 120_000);
});
