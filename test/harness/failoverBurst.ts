// The failover burst, shared by test/e2e/failover-burst.test.ts and bench/failover/run.ts:
// N SDK clients in one room on one media node of a local cluster (one publishes a small camera,
// the others receive it), the node is killed (SIGKILL), and what follows is recorded: every
// `login` the clients send and its answer, when each client rejoined, and when each receiver's
// decoded video advanced. Clients run in a few Chromium pages (several clients per page).
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { RedisPlacementStore } from '../../shared/adapters/redis/RedisPlacementStore.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import type { LocalCluster } from './cluster.ts';
import { eventually } from './embedded.ts';
import { bundleForBrowser, type PageServer, servePages } from './pageServer.ts';

export const BUCKET_MS = 250;

export interface BurstOptions {
  room: string;
  clients: number;
  /** Pages the clients are spread over (the publisher is in the first). */
  pages: number;
  /**
   * Stand-in for a correct detector in the SDK: its own health checks off, each client is told
   * its node is gone at a uniformly random moment in [fromMs, fromMs + spreadMs) after the kill
   * (and rejoins flagged `failover`). Otherwise the SDK finds out by itself.
   */
  detect?: { fromMs: number; spreadMs: number };
  /** How long to wait for everyone to be back and receiving. */
  recoverTimeoutMs?: number;
}

export interface LoginOutcome {
  /** Which client's socket (page:socket). */
  client: string;
  /** ms since the kill. */
  sentMs: number;
  failover: boolean;
  /** ms since the kill; absent: never answered (sent to the dead node). */
  answeredMs?: number;
  ok?: boolean;
  code?: number;
  message?: string;
}

export interface BurstResult {
  clients: number;
  victim: string;
  detect: { fromMs: number; spreadMs: number } | undefined;
  /** Every login sent after the kill, by the time it was sent. */
  logins: LoginOutcome[];
  /** Logins sent after the kill per 250 ms bucket, from the kill. */
  histogram: { fromMs: number; count: number }[];
  /** Login answers that were errors (a capacity, limit or placement problem would show here). */
  failures: LoginOutcome[];
  /** Clients that rejoined after the kill. */
  rejoined: number;
  /** Per client: kill → its SDK started rejoining (detection), and → rejoined. */
  detectMs: number[];
  rejoinMs: number[];
  /** Per receiver: the longest stretch without a decoded frame, spanning the kill (Infinity: never resumed). */
  gapMs: number[];
  /** Per receiver: kill → the publisher's new video track arrived (signaling done) → its first frame decoded. */
  trackMs: number[];
  frameMs: number[];
  /** Per client: the SDK's connection states since the kill (ms since the kill, state, reason). */
  states: { user: string; states: string[] }[];
  /** The publisher's own timeline (every receiver waits for it to publish again). */
  publisher: { detectMs: number; rejoinMs: number };
  summary: {
    attempts: number;
    unanswered: number;
    /** Login sent → answered, over answered logins. */
    loginP50: number;
    loginP95: number;
    detectP50: number;
    rejoinP50: number;
    rejoinP95: number;
    trackP50: number;
    frameP50: number;
    gapP50: number;
    gapP95: number;
  };
}

/** Serves the burst page (test/e2e/pages/burstPeers.ts, bundled). */
export async function serveBurstPage(): Promise<PageServer> {
  const bundle = await bundleForBrowser(
    fileURLToPath(new URL('../e2e/pages/burstPeers.ts', import.meta.url)),
  );
  return servePages({
    '/': ['text/html', '<!doctype html><title>burst</title><script type="module" src="/burst.js"></script>'],
    '/burst.js': ['text/javascript', bundle],
  });
}

export const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

export function histogram(
  times: readonly number[],
  bucketMs = BUCKET_MS,
): { fromMs: number; count: number }[] {
  if (times.length === 0) return [];
  const last = Math.floor(Math.max(...times) / bucketMs);
  const counts = Array.from({ length: last + 1 }, (_, i) => ({ fromMs: i * bucketMs, count: 0 }));
  for (const t of times) counts[Math.max(0, Math.floor(t / bucketMs))]!.count++;
  return counts;
}

/** Longest interval between consecutive sample times at or around `from` (the stall a receiver saw). */
export function longestGap(times: readonly number[], from: number, until: number): number {
  const after = times.filter((t) => t > from);
  if (after.length === 0) return Number.POSITIVE_INFINITY;
  const before = times.filter((t) => t <= from);
  const series = [before.at(-1) ?? from, ...after, ...(after.at(-1)! < until - 1000 ? [until] : [])];
  let longest = 0;
  for (let i = 1; i < series.length; i++) longest = Math.max(longest, series[i]! - series[i - 1]!);
  return longest;
}

type PageReport = Awaited<ReturnType<Window['burst']['report']>>;

export async function runFailoverBurst(
  cluster: LocalCluster,
  browser: Browser,
  pageServer: PageServer,
  options: BurstOptions,
): Promise<BurstResult> {
  const pages: Page[] = [];
  for (let i = 0; i < options.pages; i++) {
    const page = await (await browser.newContext()).newPage();
    if (process.env.E2E_CONSOLE) page.on('console', (m) => console.log(`[page ${i}] ${m.text()}`));
    await page.goto(pageServer.url);
    await page.waitForFunction(() => 'burst' in window);
    pages.push(page);
  }
  const join = async (i: number) => {
    const publish = i === 0;
    const user = publish ? 'publisher' : `viewer-${i}`;
    const token = await cluster.token(options.room, user, publish ? 'presenter' : 'viewer');
    return pages[i % pages.length]!.evaluate(
      ([u, t, s, name, p, h]) => window.burst.join(u, t, s, name, p, h),
      [cluster.url, token, cluster.signalingUrl, user, publish, options.detect === undefined] as const,
    );
  };
  await join(0);
  // A few at a time: 20 joins at once on 2 busy cores only measure the machine.
  for (let i = 1; i < options.clients; i += 4) {
    await Promise.all(Array.from({ length: Math.min(4, options.clients - i) }, (_, k) => join(i + k)));
  }
  await Promise.all(pages.map((p) => p.evaluate(() => window.burst.watch())));
  const reports = async () =>
    (await Promise.all(pages.map((p) => p.evaluate(() => window.burst.report())))) as PageReport[];
  const receivers = (all: PageReport[]) =>
    all.flatMap((r) => r.members).filter((m) => m.user !== 'publisher');
  const receiving = (since: number) => async () =>
    receivers(await reports()).filter((m) => (m.advancedAt.at(-1) ?? 0) > since).length;
  const settled = Date.now();
  await eventually(receiving(settled), (n) => n === options.clients - 1, 30_000);

  const redis = new Redis(cluster.redisUrl);
  const victim = (await new RedisPlacementStore(redis).get(roomKey('super', options.room)))!;
  redis.disconnect();
  await new Promise((r) => setTimeout(r, 1000));
  const killedAt = Date.now();
  cluster.nodes.get(victim)!.kill('SIGKILL');
  const { detect } = options;
  if (detect) {
    await new Promise((r) => setTimeout(r, detect.fromMs));
    await Promise.all(
      pages.map((p) => p.evaluate((spread) => window.burst.simulateStall(spread), detect.spreadMs)),
    );
  }

  // Back: everyone rejoined, and every receiver decodes again after the last rejoin.
  const recovered = async () => {
    const all = await reports();
    const members = all.flatMap((r) => r.members);
    const lastRejoin = Math.max(...members.map((m) => m.rejoinedAt.at(-1) ?? Number.POSITIVE_INFINITY));
    return (
      members.every((m) => (m.rejoinedAt.at(-1) ?? 0) > killedAt) &&
      receivers(all).every((m) => (m.advancedAt.at(-1) ?? 0) > lastRejoin)
    );
  };
  await eventually(recovered, (ok) => ok, options.recoverTimeoutMs ?? 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all(pages.map((p) => p.evaluate(() => window.burst.stopWatching())));
  const until = Date.now();
  const all = await reports();
  await Promise.all(pages.map((p) => p.context().close()));

  const logins: LoginOutcome[] = all
    .flatMap((r, page) => r.logins.map((l) => ({ ...l, client: `${page}:${l.socket}` })))
    .filter((l) => l.sentAt >= killedAt)
    .map((l) => ({
      client: l.client,
      sentMs: l.sentAt - killedAt,
      failover: l.failover,
      ...(l.answeredAt !== undefined ? { answeredMs: l.answeredAt - killedAt, ok: l.ok ?? false } : {}),
      ...(l.code !== undefined ? { code: l.code, message: l.message ?? '' } : {}),
    }))
    .sort((a, b) => a.sentMs - b.sentMs);
  const members = all.flatMap((r) => r.members);
  const after = (times: number[]) => times.find((t) => t > killedAt);
  const detectMs = members.map((m) => (after(m.rejoiningAt) ?? Number.POSITIVE_INFINITY) - killedAt);
  const rejoinMs = members.map((m) => (after(m.rejoinedAt) ?? Number.POSITIVE_INFINITY) - killedAt);
  const gapMs = receivers(all).map((m) => longestGap(m.advancedAt, killedAt, until));
  const trackMs = receivers(all).map((m) => (after(m.trackAt) ?? Number.POSITIVE_INFINITY) - killedAt);
  // The first advance after the new track arrived (frames still buffered at the kill do not count).
  const frameMs = receivers(all).map(
    (m) =>
      (m.advancedAt.find((t) => t > (after(m.trackAt) ?? Number.POSITIVE_INFINITY)) ??
        Number.POSITIVE_INFINITY) - killedAt,
  );
  const failures = logins.filter((l) => l.ok === false);
  const answered = logins.filter((l) => l.answeredMs !== undefined).map((l) => l.answeredMs! - l.sentMs);
  const publisherAt = members.findIndex((m) => m.user === 'publisher');
  return {
    clients: members.length,
    victim,
    detect: options.detect,
    logins,
    histogram: histogram(logins.map((l) => l.sentMs)),
    failures,
    rejoined: rejoinMs.filter(Number.isFinite).length,
    detectMs,
    rejoinMs,
    gapMs,
    trackMs,
    frameMs,
    states: members.map((m) => ({
      user: m.user,
      states: m.states
        .filter((s) => s.at >= killedAt)
        .map((s) => `${s.at - killedAt} ${s.state}${s.reason ? ` (${s.reason})` : ''}`),
    })),
    publisher: { detectMs: detectMs[publisherAt]!, rejoinMs: rejoinMs[publisherAt]! },
    summary: {
      attempts: logins.length,
      unanswered: logins.filter((l) => l.answeredMs === undefined).length,
      loginP50: percentile(answered, 50),
      loginP95: percentile(answered, 95),
      detectP50: percentile(detectMs, 50),
      rejoinP50: percentile(rejoinMs, 50),
      rejoinP95: percentile(rejoinMs, 95),
      trackP50: percentile(trackMs, 50),
      frameP50: percentile(frameMs, 50),
      gapP50: percentile(gapMs, 50),
      gapP95: percentile(gapMs, 95),
    },
  };
}

/** Each client's first login after the kill (its first rejoin attempt). */
export function firstAttempts(logins: readonly LoginOutcome[]): LoginOutcome[] {
  const seen = new Set<string>();
  return logins.filter((l) => !seen.has(l.client) && seen.add(l.client));
}

/** The histogram as text rows, e.g. ` 1000–1250 ms  ####  4`. */
export function formatHistogram(rows: { fromMs: number; count: number }[], bucketMs = BUCKET_MS): string {
  return rows
    .map(
      (r) =>
        `${String(r.fromMs).padStart(6)}–${String(r.fromMs + bucketMs).padEnd(6)} ms ${'#'.repeat(r.count)} ${r.count}`,
    )
    .join('\n');
}
