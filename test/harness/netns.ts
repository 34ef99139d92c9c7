/**
 * Network faults for end-to-end tests, made on this machine only: a network namespace joined to
 * the host by a veth pair on a private /30 (10.77.x.y), with Chromium running inside it and
 * packet filters (nftables, inside the namespace) that block UDP, TCP to a port, or everything.
 *
 *   const ns = await createNetNamespace();          // root; `ns.close()` in afterAll
 *   const server = await startEmbedded({ HOST: ns.hostAddress, RTC_LISTEN_IP: ns.hostAddress });
 *   const browser = await ns.launchChromium();      // every packet of it goes through the veth
 *   await ns.block({ udp: true });                  // media over UDP gone, signaling (TCP) stays
 *   await ns.unblock();                             // all faults lifted
 *
 * Servers under test bind to `hostAddress`, which participants outside the namespace use too.
 * A page served from `hostAddress` is not a secure context (no getUserMedia): launch every
 * browser with `secureOrigins` naming the page server's origin. Namespaces are removed by
 * `close()`, at process exit, and (those of processes no longer running) when the next one is
 * created.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { chromiumFlags } from './chromium.ts';

const run = promisify(execFile);

/** What to drop, in both directions, between the namespace and everything outside it. */
export interface Faults {
  /** Every UDP packet (media, STUN, TURN over UDP). */
  udp?: boolean;
  /** TCP to and from these ports on the far side (e.g. the TURN port, the signaling port). */
  tcpPorts?: number[];
  /** Every packet. */
  all?: boolean;
}

export interface NetNamespace {
  name: string;
  /** The host's side of the veth pair: servers bind here to be reachable from inside. */
  hostAddress: string;
  /** The namespace's own address. */
  address: string;
  /** Runs a command inside the namespace; resolves with its stdout. */
  exec(command: string[]): Promise<string>;
  /** Chromium with the suite's usual flags, running inside the namespace. */
  launchChromium(options?: ChromiumOptions): Promise<Browser>;
  /** Replaces the active faults with these (atomically: one nftables transaction). */
  block(faults: Faults): Promise<void>;
  /** Lifts every fault. */
  unblock(): Promise<void>;
  /** Removes the namespace and its veth pair (idempotent). Close its browsers first. */
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /** Origins (e.g. `http://10.77.3.1:41234`) treated as secure, so their pages may use getUserMedia. */
  secureOrigins?: string[];
  args?: string[];
}

const PREFIX = 'tsn-';
const live = new Set<string>();
let sequence = 0;

process.once('exit', () => {
  for (const name of live) removeSync(name);
});

/** Creates a namespace with a veth pair on a free /30 of 10.77.0.0/16. Needs root. */
export async function createNetNamespace(): Promise<NetNamespace> {
  removeLeftovers();
  // The pid in the name tells a later run whether the namespace's owner still runs.
  const name = `${PREFIX}${process.pid.toString(36)}-${sequence++}`;
  const [hostAddress, address] = await freeSubnet();
  const inner = `${name}i`;
  live.add(name);
  try {
    await ip('netns', 'add', name);
    await ip('link', 'add', name, 'type', 'veth', 'peer', 'name', inner);
    await ip('link', 'set', inner, 'netns', name);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', name);
    await ip('link', 'set', name, 'up');
    await ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', inner);
    await ip('-n', name, 'link', 'set', inner, 'up');
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    removeSync(name);
    live.delete(name);
    throw e;
  }
  const wrapperDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const exec = async (command: string[]) =>
    (await run('ip', ['netns', 'exec', name, ...command], { maxBuffer: 1 << 20 })).stdout;
  let closed = false;
  const ns: NetNamespace = {
    name,
    hostAddress,
    address,
    exec,
    async launchChromium(options = {}) {
      // Playwright talks to Chromium over inherited pipes, which `ip netns exec` keeps.
      const wrapper = join(wrapperDir, 'chromium');
      const binary = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${binary} "$@"\n`, { mode: 0o755 });
      return chromium.launch({
        executablePath: wrapper,
        headless: true,
        args: [...chromiumFlags, ...secureOriginFlags(options.secureOrigins), ...(options.args ?? [])],
      });
    },
    async block(faults) {
      await nft(exec, faultRules(faults));
    },
    async unblock() {
      await nft(exec, faultRules({}));
    },
    async close() {
      if (closed) return;
      closed = true;
      removeSync(name);
      live.delete(name);
      rmSync(wrapperDir, { recursive: true, force: true });
    },
  };
  return ns;
}

/** Flags for the browsers of a suite whose pages come from a non-loopback address (e.g. `hostAddress`). */
export function secureOriginFlags(origins: string[] = []): string[] {
  return origins.length ? [`--unsafely-treat-insecure-origin-as-secure=${origins.join(',')}`] : [];
}

const TABLE = 'tessera_faults';

/** The whole fault table: loopback inside the namespace is never touched. */
function faultRules(f: Faults): string {
  const out: string[] = [];
  const inn: string[] = [];
  if (f.all) {
    out.push('drop');
    inn.push('drop');
  }
  if (f.udp) {
    out.push('meta l4proto udp drop');
    inn.push('meta l4proto udp drop');
  }
  for (const port of f.tcpPorts ?? []) {
    out.push(`tcp dport ${port} drop`);
    inn.push(`tcp sport ${port} drop`);
  }
  const chain = (hook: 'input' | 'output', rules: string[]) =>
    [
      `  chain ${hook} {`,
      `    type filter hook ${hook} priority 0; policy accept;`,
      `    ${hook === 'input' ? 'iifname' : 'oifname'} "lo" accept`,
      ...rules.map((r) => `    ${r}`),
      '  }',
    ].join('\n');
  // Declare-then-delete makes the replace work whether or not the table exists yet.
  return [
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    chain('input', inn),
    chain('output', out),
    '}',
    '',
  ].join('\n');
}

async function nft(exec: (c: string[]) => Promise<string>, ruleset: string): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'tsn-nft-')), 'rules.nft');
  writeFileSync(file, ruleset);
  try {
    await exec(['nft', '-f', file]);
  } finally {
    rmSync(join(file, '..'), { recursive: true, force: true });
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** A /30 of 10.77.0.0/16 no interface on this machine uses: [host side, namespace side]. */
async function freeSubnet(): Promise<[string, string]> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  const used = new Set([...stdout.matchAll(/inet (10\.77\.\d+\.\d+)/g)].map((m) => m[1]!));
  for (let attempt = 0; attempt < 100; attempt++) {
    const block = Math.floor(Math.random() * 16_384);
    const prefix = `10.77.${block >> 6}`;
    const first = (block & 63) * 4;
    const host = `${prefix}.${first + 1}`;
    const inside = `${prefix}.${first + 2}`;
    if (!used.has(host) && !used.has(inside)) return [host, inside];
  }
  throw new Error('no free /30 in 10.77.0.0/16');
}

function removeSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {}
  // A veth pair whose inner end never moved in survives the namespace.
  try {
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch {}
}

/** Namespaces (and stray veths) of earlier runs whose process is gone: a crashed run's leftovers. */
function removeLeftovers(): void {
  const names = new Set<string>();
  try {
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const m of netns.matchAll(/^(tsn-[0-9a-z]+-\d+)/gm)) names.add(m[1]!);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    for (const m of links.matchAll(/^\d+: (tsn-[0-9a-z]+-\d+)[@:]/gm)) names.add(m[1]!);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number.parseInt(name.slice(PREFIX.length).split('-')[0]!, 36);
    if (!alive(pid)) removeSync(name);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
