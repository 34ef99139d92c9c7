import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { NodeCommandSchema } from '../../shared/protocol/commands.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import { browserSuite, type Received } from '../harness/browserSuite.ts';
import { bearer } from '../harness/controlPlane.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { metricValue, scrapeMetrics } from '../harness/prometheus.ts';

const join = (page: Page, url: string, token: string, options: { publish?: boolean } = {}) =>
  page.evaluate(([u, t, o]) => window.peer.join(u, t, o), [url, token, options] as const) as Promise<{
    id: string;
    published: { audio: string; video: string };
  }>;

const transcoded = (streams: Received) =>
  streams.find((s) => s.owner === 'pipeline:tc-e2e' && s.kind === 'video');

describe('a transcode pipeline on the embedded server (two Chromium participants)', () => {
  const suite = browserSuite(() => startEmbedded());

  it("pipeline.start re-encodes a participant's camera into a new stream of the room; another participant decodes it; pipeline.stop removes it", async () => {
    const [a, b] = await Promise.all([
      openPeer(suite.browser, suite.pages),
      openPeer(suite.browser, suite.pages),
    ]);
    const ana = await join(a, suite.target.url, await suite.target.token('pipe-room', 'ana'));
    await join(b, suite.target.url, await suite.target.token('pipe-room', 'ben'), { publish: false });

    // The control plane's command, through the node's own bus (as a REST call will send it).
    const { mediaNode, commands } = suite.target.system;
    const command = (extra: object) =>
      NodeCommandSchema.parse({
        id: randomUUID(),
        issuedAt: new Date().toISOString(),
        roomId: roomKey('super', 'pipe-room'),
        pipelineId: 'tc-e2e',
        ...extra,
      });
    await commands.send(
      mediaNode.id,
      command({
        type: 'pipeline.start',
        kind: 'transcode',
        input: { streamId: ana.published.video },
        params: { codec: 'h264', width: 320, height: 240, framerate: 15, bitrateKbps: 300 },
      }),
    );

    // Ben's SDK hears of the new stream, subscribes, and decodes frames of it, advancing.
    const first = transcoded(
      await eventually(
        () => b.evaluate(() => window.peer.received()),
        (s) => (transcoded(s)?.framesDecoded ?? 0) > 5,
        30_000,
      ),
    );
    expect(first, 'ben decodes the transcoded stream').toBeDefined();
    expect(first!.codec).toBe('video/H264');
    expect(first!.width).toBeGreaterThan(0);
    expect(first!.width).toBeLessThanOrEqual(320);
    expect(first!.height).toBeLessThanOrEqual(240);
    const later = transcoded(
      await eventually(
        () => b.evaluate(() => window.peer.received()),
        (s) => (transcoded(s)?.framesDecoded ?? 0) > first!.framesDecoded + 10,
      ),
    );
    expect(later!.framesDecoded).toBeGreaterThan(first!.framesDecoded + 10);
    expect(mediaNode.pipelines.get('tc-e2e')?.state).toBe('running');

    // REST lists its output as a stream of the room with a pipeline origin.
    const { system } = suite.target;
    const authorization = await bearer(system.superService.id, system.superService.key);
    const streams = (await (
      await fetch(`${suite.target.url}/v1/rooms/pipe-room/streams`, { headers: { authorization } })
    ).json()) as Stream[];
    const output = streams.find((s) => s.info.origin?.kind === 'pipeline');
    expect(output?.info.origin).toEqual({
      kind: 'pipeline',
      pipelineId: 'tc-e2e',
      pipelineKind: 'transcode',
    });
    expect(output?.media.video?.format.codec).toBe('h264');
    // Its ffmpeg's CPU shows in /metrics while it runs, and the event stream told of its start.
    const scraped = await eventually(
      () => scrapeMetrics(suite.target.url),
      (t) => metricValue(t, 'tessera_pipeline_cpu_ratio') > 0,
    );
    expect(metricValue(scraped, 'tessera_pipeline_cpu_ratio')).toBeGreaterThan(0);
    expect(metricValue(scraped, 'tessera_events_total', 'type="pipeline.started"')).toBe(1);

    await commands.send(mediaNode.id, command({ type: 'pipeline.stop' }));
    const events = await eventually(
      () => b.evaluate(() => window.peer.events()),
      (e) => e.includes(`removed:${first!.streamId}`),
    );
    expect(events).toContain(`removed:${first!.streamId}`);
    expect(mediaNode.pipelines.list()).toEqual([]);
    const ended = await eventually(
      () => scrapeMetrics(suite.target.url),
      (t) => metricValue(t, 'tessera_events_total', 'type="pipeline.ended"') === 1,
    );
    expect(metricValue(ended, 'tessera_events_total', 'type="pipeline.ended"')).toBe(1);
  }, 90_000);
});
