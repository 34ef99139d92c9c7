import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AuthenticationError, LimitError, PermissionError } from '../../shared/errors.ts';
import type { TokenLedger } from '../../shared/ports/live.ts';
import type { RateLimiter } from '../../shared/ports/rateLimit.ts';
import { type Permission, PermissionSchema } from '../../shared/protocol/http/liveState.ts';
import type { Room } from '../../shared/protocol/http/room.ts';

export interface JoinTokenRequest {
  user: string;
  role: string;
  preference?: { isp?: string | undefined; region?: string | undefined } | undefined;
}

export interface JoinClaims {
  tokenId: string;
  roomId: string;
  serviceId: string;
  user: string;
  role: string;
  permission: Permission;
  preference: { isp?: string; region?: string };
  expiresAt: number;
  /** When the room the token was issued for was created: a room deleted and created again is another room. */
  roomCreatedAt: string;
}

const ISSUER = 'tessera';
const AUDIENCE = 'tessera:join';

/**
 * Join tokens: JWTs (HS256, TOKEN_SECRET) naming the room, user, role, permissions and an id.
 * Every issued id goes into the TokenLedger, and redeeming deletes it: a token works once.
 */
export class JoinTokens {
  /** Imported once: given raw bytes, jose imports the key again on every sign and verify. */
  readonly #key: Promise<CryptoKey>;
  readonly #ledger: TokenLedger;
  readonly #ttlSeconds: number;
  readonly #now: () => number;
  readonly #rate: { limiter: RateLimiter; perServicePerMinute: number } | undefined;

  constructor(options: {
    secret: string;
    ledger: TokenLedger;
    ttlSeconds: number;
    now?: () => number;
    /** config.limits.tokensPerServicePerMinute, counted across processes; unset: no limit. */
    rate?: { limiter: RateLimiter; perServicePerMinute: number };
  }) {
    this.#key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(options.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    this.#ledger = options.ledger;
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
    this.#rate = options.rate;
  }

  async issue(
    room: Room,
    request: JoinTokenRequest,
  ): Promise<{ token: string; id: string; expiresAt: string }> {
    const role = room.options.roles.find((r) => r.role === request.role);
    if (!role) throw new PermissionError(`role ${request.role} is not defined in room ${room.id}`);
    if (this.#rate) {
      const { limiter, perServicePerMinute: limit } = this.#rate;
      if (!(await limiter.take(`tokens:${room.serviceId}`, limit, 60_000)))
        throw new LimitError(`a service may issue at most ${limit} join tokens per minute`, { limit });
    }
    const id = randomUUID();
    const issuedAt = Math.floor(this.#now() / 1000);
    const expiresAt = issuedAt + this.#ttlSeconds;
    const permission: Permission = { publish: role.publish, subscribe: role.subscribe };
    const token = await new SignJWT({
      room: room.id,
      svc: room.serviceId,
      user: request.user,
      role: role.role,
      perm: permission,
      pref: request.preference ?? {},
      rca: room.createdAt,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(await this.#key);
    await this.#ledger.record(id, expiresAt * 1000);
    return { token, id, expiresAt: new Date(expiresAt * 1000).toISOString() };
  }

  /** Checks a token's signature, audience and expiry without spending it. AuthenticationError saying why. */
  async verify(token: string): Promise<JoinClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['jti', 'exp'],
        currentDate: new Date(this.#now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError('join token expired');
      throw new AuthenticationError('join token invalid');
    }
    const claims = JoinClaimsSchema.safeParse(payload);
    if (!claims.success) throw new AuthenticationError('join token invalid');
    const c = claims.data;
    return {
      tokenId: c.jti,
      roomId: c.room,
      serviceId: c.svc,
      user: c.user,
      role: c.role,
      permission: c.perm,
      preference: c.pref as JoinClaims['preference'],
      expiresAt: c.exp * 1000,
      roomCreatedAt: c.rca,
    };
  }

  /** Spends a verified token: true exactly once per token. */
  spend(claims: JoinClaims): Promise<boolean> {
    return this.#ledger.redeem(claims.tokenId);
  }

  /** Gives a spent token back (the join it was spent on was refused: room full, no media node). */
  async restore(claims: JoinClaims): Promise<void> {
    if (claims.expiresAt > this.#now()) await this.#ledger.record(claims.tokenId, claims.expiresAt);
  }
}

/** What a join token carries; anything else is a token this code did not issue. */
const JoinClaimsSchema = z.object({
  jti: z.string().min(1).max(64),
  exp: z.number().int(),
  room: z.string().min(1).max(64),
  svc: z.string().min(1).max(64),
  user: z.string().min(1).max(128),
  role: z.string().min(1).max(64),
  perm: PermissionSchema,
  pref: z.object({ isp: z.string().max(64).optional(), region: z.string().max(64).optional() }),
  rca: z.string().max(64),
});
