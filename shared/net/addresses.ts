import { isIP } from 'node:net';

/**
 * Loopback, private, carrier-grade NAT and link-local hosts (the cloud metadata endpoint among
 * them), by name or literal address: what a URL a client gives must not reach unless the
 * deployment allows it. A name is judged only by its spelling here; guardedGet also checks the
 * addresses a name resolves to.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = bare(hostname);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return true;
  const version = isIP(host);
  if (version === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (version === 6)
    return (
      host === '::1' ||
      host === '::' ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host) ||
      host.startsWith('::ffff:')
    );
  return false;
}

/** 169.254.0.0/16 and fe80::/10: the metadata endpoints live there and no media server does. */
export function isLinkLocal(hostname: string): boolean {
  const host = bare(hostname);
  return /^169\.254\./.test(host) || /^fe[89ab]/.test(host);
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '').toLowerCase();
