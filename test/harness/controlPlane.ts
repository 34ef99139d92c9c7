import { SignJWT } from 'jose';
import { createApp } from '../../functions/app.ts';
import {
  type ManagementLimits,
  type MediaDirectory,
  managementApi,
  type Secrets,
} from '../../functions/compose.ts';
import { mauthSignature } from '../../functions/services/ManagementAuth.ts';
import { type Adapters, memoryAdapters } from '../../shared/adapters/select.ts';
import type { Config } from '../../shared/config/schema.ts';
import { createLogger } from '../../shared/logger.ts';

/** How a test harness creates a room: `views` (OWT's) when the test mixes; none by default. */
export interface RoomSetup {
  views?: unknown[];
}

/** POST /v1/rooms body of a harness room: no views unless asked (mixers cost ffmpeg per publish). */
export const roomBody = (id: string, setup: RoomSetup = {}) => ({
  id,
  name: id,
  options: { views: setup.views ?? [] },
});

export const testSecrets: Secrets = {
  // Fixed and strong, as the configuration schema demands of real secrets.
  superService: { id: 'super', key: 'Sup3r-service-test-key-7f2c9d41b8e6a035' },
  tokenSecret: 'J0in-token-test-secret-4e81c7a2d9f35b60',
  masterKey: 'Ma5ter-test-key-9c3e7a15f08d42b6e1a7',
  joinTokenTtlSeconds: 600,
};

/** The real app over the given adapters (memory by default), with fixed test secrets. */
export function testApp(
  adapters: Adapters = memoryAdapters(),
  secrets: Secrets = testSecrets,
  limits?: ManagementLimits,
  media?: MediaDirectory,
  streaming?: Config['streaming'],
) {
  const logs: string[] = [];
  const api = managementApi(adapters, secrets, limits, streaming, media);
  const app = createApp({ logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }), api });
  return { app, api, adapters, logs };
}

/** A management bearer token for a service, signed with its key. */
export async function bearer(
  serviceId: string,
  key: string,
  options: { lifetimeS?: number; issuedAtS?: number } = {},
) {
  const iat = options.issuedAtS ?? Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(serviceId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetimeS ?? 300))
    .sign(new TextEncoder().encode(key));
  return `Bearer ${jwt}`;
}

/** OWT's MAuth header, exactly as OWT's server SDK builds it. */
export function mauth(
  serviceId: string,
  key: string,
  options: { timestamp?: number; user?: string; role?: string } = {},
) {
  const timestamp = options.timestamp ?? Date.now();
  const cnonce = Math.floor(Math.random() * 99999);
  const extra = options.user ? `,${options.user},${options.role}` : '';
  const signature = mauthSignature(key, `${timestamp},${cnonce}${extra}`);
  const who = options.user ? `,mauth_username=${options.user},mauth_role=${options.role}` : '';
  return `MAuth realm=http://marte3.dit.upm.es,mauth_signature_method=HMAC_SHA256,mauth_serviceid=${serviceId},mauth_cnonce=${cnonce},mauth_timestamp=${timestamp}${who},mauth_signature=${signature}`;
}
