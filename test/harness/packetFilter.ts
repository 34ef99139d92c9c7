import { execFileSync } from 'node:child_process';

/**
 * Loopback packet filters for network-fault tests (iptables, as root). Every rule carries a
 * comment naming this test process, so it is removed on unblock, at exit, and — left over from a
 * crashed run — by the next run's `clearStale()`.
 */
const TAG = `tessera-test-${process.pid}`;
const PREFIX = 'tessera-test-';

function iptables(args: string[]): void {
  execFileSync('iptables', ['-w', ...args], { stdio: 'pipe' });
}

/** Drops new TCP connections to a loopback port (established ones keep working): a signaling outage for whoever must reconnect. */
export function blockNewConnections(port: number): () => void {
  const rule = ['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', String(port), '--syn', '-j', 'DROP'];
  const comment = ['-m', 'comment', '--comment', TAG];
  iptables(['-I', ...rule, ...comment]);
  let removed = false;
  const unblock = () => {
    if (removed) return;
    removed = true;
    try {
      iptables(['-D', ...rule, ...comment]);
    } catch {
      // already gone
    }
  };
  process.once('exit', unblock);
  return unblock;
}

/** Removes rules left by earlier test processes that did not get to clean up. */
export function clearStale(): void {
  let rules: string;
  try {
    rules = execFileSync('iptables', ['-w', '-S', 'INPUT'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of rules.split('\n')) {
    const owner = Number(new RegExp(`${PREFIX}(\\d+)`).exec(line)?.[1]);
    if (!line.startsWith('-A INPUT') || !owner || alive(owner)) continue;
    try {
      iptables([
        '-D',
        ...line
          .slice(3)
          .split(' ')
          .filter(Boolean)
          .map((a) => a.replace(/^"|"$/g, '')),
      ]);
    } catch {
      // raced with its owner
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
