import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentiles } from '../../cli/loadTest/LoadTest.ts';
import { sumMetrics } from '../../cli/loadTest/metrics.ts';
import { LoadTestArgsSchema, progressLine } from '../../cli/loadTest/report.ts';
import { runCli } from '../../cli/program.ts';

const args = {
  publishers: '20',
  subscribers: '60',
  duration: '10',
  video: '160x120@10',
  audio: false,
  concurrency: '4',
  publisherRole: 'presenter',
  subscriberRole: 'viewer',
};

describe('tessera load-test: options, metrics and figures', () => {
  it('reads its options, bounded, and the synthetic camera as WxH@fps (even sizes, at most 30 fps)', () => {
    const o = LoadTestArgsSchema.parse({ ...args, video: '161x121@60' });
    expect(o).toMatchObject({ publishers: 20, subscribers: 60, duration: 10, concurrency: 4 });
    expect(o.video).toEqual({ width: 160, height: 120, fps: 30 });
    for (const bad of [
      { publishers: '0' },
      { publishers: '201' },
      { subscribers: '-1' },
      { subscribers: '1001' },
      { concurrency: '33' },
      { video: '160x120' },
      { room: '../etc' },
      { metrics: 'not a url' },
    ])
      expect(LoadTestArgsSchema.safeParse({ ...args, ...bad }).success, JSON.stringify(bad)).toBe(false);
  });

  it('refuses bad options as a usage error (exit 2) before touching the server', async () => {
    let err = '';
    const code = await runCli(['--url', 'http://127.0.0.1:9', 'load-test', '--publishers', '0'], {
      out: () => {},
      err: (t) => {
        err += t;
      },
    });
    expect(code).toBe(2);
    expect(err).toMatch(/--publishers/);
  });

  it('sums a Prometheus exposition over label sets', () => {
    const text = [
      '# HELP tessera_worker_cpu_ratio CPU',
      '# TYPE tessera_worker_cpu_ratio gauge',
      'tessera_worker_cpu_ratio{worker="0",node="a"} 0.25',
      'tessera_worker_cpu_ratio{worker="1",node="a"} 0.5',
      'tessera_consumers{node="a"} 12',
      'tessera_consumers{node="b"} 30',
      'tessera_bogus{node="a"} NaN',
      '',
    ].join('\n');
    const sums = sumMetrics(text);
    expect(sums.get('tessera_worker_cpu_ratio')).toBe(0.75);
    expect(sums.get('tessera_consumers')).toBe(42);
    expect(sums.has('tessera_bogus')).toBe(false);
  });

  it('takes percentiles by rank (nearest rank, never interpolated beyond the data)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 200 }),
        (values) => {
          const p = percentiles(values);
          const sorted = [...values].sort((a, b) => a - b);
          expect(p.n).toBe(values.length);
          expect(p.max).toBe(sorted.at(-1));
          expect(values).toContain(p.p50);
          expect(p.p50).toBeLessThanOrEqual(p.p95);
          expect(p.p95).toBeLessThanOrEqual(p.p99);
          expect(p.p99).toBeLessThanOrEqual(p.max);
          // At least half the values are at or below the median.
          expect(sorted.filter((v) => v <= p.p50).length * 2).toBeGreaterThanOrEqual(values.length);
        },
      ),
    );
    expect(percentiles([]).n).toBe(0);
  });

  it('writes one progress line per tick', () => {
    expect(
      progressLine({
        phase: 'subscribing',
        publishers: 20,
        subscribers: 30,
        tracks: 600,
        expectedTracks: 1200,
        failures: 1,
        elapsedMs: 12_400,
      }),
    ).toBe('[  12 s] subscribing publishers 20  subscribers 30  tracks 600/1200 (50 %)  failures 1');
  });
});
