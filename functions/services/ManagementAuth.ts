import { createHash, createHmac } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { AuthenticationError } from '../../shared/errors.ts';
import type { NonceLedger } from '../../shared/ports/nonces.ts';
import type { Caller, ServiceRegistry } from './ServiceRegistry.ts';
import { safeEqual } from './secrets.ts';

/** Requests older or newer than this (clock skew included) are refused. */
const MAX_SKEW_MS = 5 * 60 * 1000;
/** What a service id looks like; anything else is refused before a key lookup. */
const SERVICE_ID = /^[\w-]{1,64}$/;
/** Longest lifetime a management bearer token may declare, or have left. */
const MAX_BEARER_LIFETIME_S = 15 * 60;
/** Clock difference tolerated between a bearer token's signer and us. */
const CLOCK_TOLERANCE_S = 30;
/** Verified bearer tokens kept (a few MB at most). */
const MAX_VERIFIED_BEARERS = 10_000;

/**
 * Authenticates management requests, signed with the service key in one of two ways:
 * - `Authorization: Bearer <JWT>`: HS256, `iss` = service id, `iat` and `exp` required,
 *   lifetime ≤ 15 minutes;
 * - `Authorization: MAuth realm=…,mauth_serviceid=…,mauth_cnonce=…,mauth_timestamp=…,
 *   mauth_signature=…`: OWT's scheme, base64(hex(HMAC-SHA256(key, "timestamp,cnonce[,username,role]"))),
 *   so existing OWT server code keeps working. Unlike OWT, stale timestamps are refused, and
 *   each (service, timestamp, cnonce) is accepted once: a captured header cannot be replayed.
 * Every failure is the same AuthenticationError: callers learn nothing about which part failed.
 */
export class ManagementAuth {
  readonly #services: ServiceRegistry;
  readonly #nonces: NonceLedger;
  readonly #now: () => number;
  /** Bearer tokens verified, by the token: whose, with which key, until when (insertion order: oldest first). */
  readonly #verified = new Map<string, { serviceId: string; key: string; exp: number }>();

  constructor(services: ServiceRegistry, nonces: NonceLedger, now: () => number = Date.now) {
    this.#services = services;
    this.#nonces = nonces;
    this.#now = now;
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (!authorization) throw new AuthenticationError('missing Authorization header');
    const [scheme, ...rest] = authorization.trim().split(' ');
    const credentials = rest.join(' ').trim();
    if (scheme === 'Bearer' && credentials) return this.#bearer(credentials);
    if (scheme === 'MAuth' && credentials) return this.#mauth(credentials);
    throw new AuthenticationError('unsupported authorization scheme');
  }

  async #bearer(token: string): Promise<Caller> {
    // A service signs a bearer token once and sends it until it expires: the same string
    // checked against the same service key verifies the same way, so it is verified once.
    const verified = this.#verified.get(token);
    if (verified && verified.exp + CLOCK_TOLERANCE_S > this.#now() / 1000) {
      if ((await this.#services.keyOf(verified.serviceId)) === verified.key)
        return caller(this.#services, verified.serviceId);
    }
    this.#verified.delete(token);
    let serviceId: unknown;
    try {
      serviceId = decodeJwt(token).iss;
    } catch {
      throw new AuthenticationError();
    }
    const key =
      typeof serviceId === 'string' && SERVICE_ID.test(serviceId)
        ? await this.#services.keyOf(serviceId)
        : undefined;
    if (!key) throw new AuthenticationError();
    let exp: number;
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(key), {
        algorithms: ['HS256'],
        issuer: serviceId as string,
        requiredClaims: ['iat', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(this.#now()),
      });
      // jose checks exp but not a future iat: a token "issued" in a year would pass the
      // lifetime check below and work for a year. Bound both iat and the time left.
      const now = this.#now() / 1000;
      if (payload.iat! > now + CLOCK_TOLERANCE_S)
        throw new AuthenticationError('bearer token issued in the future');
      if (
        payload.exp! - payload.iat! > MAX_BEARER_LIFETIME_S ||
        payload.exp! - now > MAX_BEARER_LIFETIME_S + CLOCK_TOLERANCE_S
      )
        throw new AuthenticationError('bearer token lives too long');
      exp = payload.exp!;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError('credentials expired');
      throw new AuthenticationError();
    }
    this.#verified.set(token, { serviceId: serviceId as string, key, exp });
    if (this.#verified.size > MAX_VERIFIED_BEARERS)
      this.#verified.delete(this.#verified.keys().next().value!);
    return caller(this.#services, serviceId as string);
  }

  async #mauth(credentials: string): Promise<Caller> {
    const fields = new Map<string, string>();
    for (const part of credentials.split(',')) {
      const at = part.indexOf('=');
      if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
    }
    const serviceId = fields.get('mauth_serviceid');
    const timestamp = fields.get('mauth_timestamp');
    const cnonce = fields.get('mauth_cnonce');
    const signature = fields.get('mauth_signature');
    const method = fields.get('mauth_signature_method') ?? 'HMAC_SHA256';
    if (
      !serviceId ||
      !timestamp ||
      !cnonce ||
      !signature ||
      method !== 'HMAC_SHA256' ||
      !SERVICE_ID.test(serviceId)
    ) {
      throw new AuthenticationError();
    }
    if (!/^\d{1,16}$/.test(timestamp) || Math.abs(this.#now() - Number(timestamp)) > MAX_SKEW_MS) {
      throw new AuthenticationError('credentials expired');
    }
    const key = await this.#services.keyOf(serviceId);
    if (!key) throw new AuthenticationError();
    const username = fields.get('mauth_username');
    const role = fields.get('mauth_role');
    const signed =
      username !== undefined && role !== undefined
        ? `${timestamp},${cnonce},${username},${role}`
        : `${timestamp},${cnonce}`;
    if (!safeEqual(mauthSignature(key, signed), signature)) throw new AuthenticationError();
    // Claimed only once the signature holds (forgeries cost no store write), and remembered
    // until the timestamp leaves the skew window, after which the skew check refuses it.
    const nonce = createHash('sha256').update(`${serviceId}\n${timestamp}\n${cnonce}`).digest('hex');
    const remembered = Number(timestamp) + MAX_SKEW_MS - this.#now() + 1000;
    if (!(await this.#nonces.claimOnce(nonce, remembered)))
      throw new AuthenticationError('credentials already used');
    return caller(this.#services, serviceId);
  }
}

/** OWT's MAuth signature: base64 of the hex HMAC-SHA256 digest. */
export function mauthSignature(key: string, toSign: string): string {
  return Buffer.from(createHmac('sha256', key).update(toSign).digest('hex')).toString('base64');
}

const caller = (services: ServiceRegistry, serviceId: string): Caller => ({
  serviceId,
  isSuper: services.isSuper(serviceId),
});
