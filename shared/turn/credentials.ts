import { createHmac } from 'node:crypto';
import type { IceServer } from '../protocol/signaling.ts';

/**
 * Short-lived TURN credentials in coturn's REST-API scheme (`use-auth-secret`): the username
 * is `<unix expiry>:<participant id>` and the password base64(HMAC-SHA1(secret, username)).
 * coturn recomputes the password from the shared secret and refuses a username whose expiry
 * has passed, so nothing has to be stored per participant.
 */
export interface TurnCredentialOptions {
  /** The secret coturn is started with (`static-auth-secret`). */
  secret: string;
  /** How long the credentials admit new allocations. */
  ttlSeconds: number;
  /** Names the allocation in coturn's logs (and is what coturn counts usage under). */
  participantId: string;
  /** Unix milliseconds; `Date.now()` unless a test fixes it. */
  nowMs?: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which coturn refuses new allocations with these credentials. */
  expiresAt: number;
}

export function turnCredentials(o: TurnCredentialOptions): TurnCredentials {
  const expiresAt = Math.floor((o.nowMs ?? Date.now()) / 1000) + o.ttlSeconds;
  // The username's own ':' separates expiry from id; coturn takes the part before the first one.
  const username = `${expiresAt}:${o.participantId}`;
  const credential = createHmac('sha1', o.secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/** The ICE servers a participant is given at login: every TURN URL, one set of credentials. */
export function turnIceServers(urls: readonly string[], o: TurnCredentialOptions): IceServer[] {
  if (urls.length === 0) return [];
  const { username, credential } = turnCredentials(o);
  return [{ urls: [...urls], username, credential }];
}

/** The URLs a TURN server on `host` offers: UDP and TCP on `port`, TLS on `tlsPort`. */
export function turnUrlsFor(host: string, port: number, tlsPort: number | undefined): string[] {
  // An IPv6 literal needs brackets in a URI.
  const h = host.includes(':') ? `[${host}]` : host;
  return [
    `turn:${h}:${port}?transport=udp`,
    `turn:${h}:${port}?transport=tcp`,
    ...(tlsPort ? [`turns:${h}:${tlsPort}?transport=tcp`] : []),
  ];
}
