import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite } from '../harness/browserSuite.ts';
import { eventually, openPeer, startEmbedded } from '../harness/embedded.ts';
import { metricValue } from '../harness/prometheus.ts';

/** A metric's value from the Prometheus text, summed over its label sets (0 when absent). */
const value = (text: string, name: string) => metricValue(text, name);

const join = (page: Page, url: string, token: string) =>
  page.evaluate(([u, t]) => window.peer.join(u, t), [url, token] as const) as Promise<{ id: string }>;

describe('Prometheus /metrics on the embedded server (three Chromium participants)', () => {
  const suite = browserSuite(() => startEmbedded());
  const scrape = async () => {
    const res = await fetch(`${suite.target.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('counts participants, consumers and bitrate during a call and returns to zero after', async () => {
    const idle = await scrape();
    expect(value(idle, 'tessera_participants')).toBe(0);
    expect(idle).toContain('tessera_worker_cpu_ratio{worker="0"');

    const pages = await Promise.all(['ana', 'ben', 'cy'].map(() => openPeer(suite.browser, suite.pages)));
    for (const [i, user] of ['ana', 'ben', 'cy'].entries())
      await join(pages[i]!, suite.target.url, await suite.target.token('metered', user));

    // Each publishes audio and video and receives the other two's: 6 producers, 12 consumers.
    const busy = await eventually(
      scrape,
      (t) =>
        value(t, 'tessera_participants') === 3 &&
        value(t, 'tessera_consumers') >= 12 &&
        value(t, 'tessera_bitrate_in_bps') > 0 &&
        value(t, 'tessera_bitrate_out_bps') > 0 &&
        value(t, 'tessera_rtp_bitrate_out_bps') > 0,
      40_000,
    );
    expect(value(busy, 'tessera_rooms')).toBe(1);
    expect(value(busy, 'tessera_participants')).toBe(3);
    expect(value(busy, 'tessera_producers')).toBe(6);
    expect(value(busy, 'tessera_consumers')).toBeGreaterThanOrEqual(12);
    expect(value(busy, 'tessera_bitrate_in_bps')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_bitrate_out_bps')).toBeGreaterThan(0);
    // Media RTP is part of what is sent, not more (RTCP and probes are the rest).
    expect(value(busy, 'tessera_rtp_bitrate_in_bps')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_rtp_bitrate_out_bps')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_rtp_bitrate_out_bps')).toBeLessThanOrEqual(
      value(busy, 'tessera_bitrate_out_bps'),
    );
    expect(value(busy, 'tessera_signaling_latency_seconds_count')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_commands_processed_total')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_events_total')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_packet_loss_ratio')).toBeLessThan(0.5);

    // No pipeline runs in this room (test/e2e/pipeline.test.ts measures one that does).
    expect(value(busy, 'tessera_pipeline_cpu_ratio')).toBe(0);

    for (const page of pages) await page.evaluate(() => window.peer.leave());
    const after = await eventually(
      scrape,
      (t) =>
        value(t, 'tessera_participants') === 0 &&
        value(t, 'tessera_rooms') === 0 &&
        value(t, 'tessera_bitrate_in_bps') === 0,
      30_000,
    );
    for (const name of ['tessera_rooms', 'tessera_participants', 'tessera_producers', 'tessera_consumers'])
      expect(value(after, name), name).toBe(0);
    expect(value(after, 'tessera_bitrate_out_bps')).toBe(0);
    expect(value(after, 'tessera_rtp_bitrate_out_bps')).toBe(0);
  }, 180_000);
});
