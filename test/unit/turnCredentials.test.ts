import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load.ts';
import { ConfigError } from '../../shared/errors.ts';
import { turnCredentials, turnIceServers, turnUrlsFor } from '../../shared/turn/credentials.ts';

const secret = 'Xq3v9ZpL2mWc8RtY6bNf4HsJ7dKa1GeU';

describe('TURN credentials (coturn REST-API scheme)', () => {
  it('names the expiry and the participant, and signs the username with HMAC-SHA1 of the secret', () => {
    const c = turnCredentials({ secret, ttlSeconds: 600, participantId: 'p-1', nowMs: 1_700_000_000_500 });
    expect(c.username).toBe('1700000600:p-1');
    expect(c.expiresAt).toBe(1_700_000_600);
    // The value coturn computes for `use-auth-secret` (RFC draft-uberti-behave-turn-rest).
    expect(c.credential).toBe(createHmac('sha1', secret).update('1700000600:p-1').digest('base64'));
    // A vector computed with openssl (`printf 1:u | openssl dgst -sha1 -hmac secret -binary | base64`).
    expect(
      turnCredentials({ secret: 'secret', ttlSeconds: 1, participantId: 'u', nowMs: 0 }).credential,
    ).toBe('KUHD1CkWw8p55pIgHmyFn2XyOzY=');
  });

  it('differs per participant, per expiry and per secret', () => {
    const base = { secret, ttlSeconds: 600, participantId: 'p-1', nowMs: 0 };
    const c = turnCredentials(base).credential;
    expect(turnCredentials({ ...base, participantId: 'p-2' }).credential).not.toBe(c);
    expect(turnCredentials({ ...base, nowMs: 1000 }).credential).not.toBe(c);
    expect(turnCredentials({ ...base, secret: `${secret}x` }).credential).not.toBe(c);
  });

  it('gives one ICE server with every URL, or none without URLs', () => {
    const urls = turnUrlsFor('10.0.0.1', 3478, 5349);
    expect(urls).toEqual([
      'turn:10.0.0.1:3478?transport=udp',
      'turn:10.0.0.1:3478?transport=tcp',
      'turns:10.0.0.1:5349?transport=tcp',
    ]);
    expect(turnUrlsFor('::1', 3478, undefined)).toEqual([
      'turn:[::1]:3478?transport=udp',
      'turn:[::1]:3478?transport=tcp',
    ]);
    const servers = turnIceServers(urls, { secret, ttlSeconds: 60, participantId: 'p', nowMs: 0 });
    expect(servers).toEqual([{ urls, username: '60:p', credential: expect.any(String) }]);
    expect(turnIceServers([], { secret, ttlSeconds: 60, participantId: 'p' })).toEqual([]);
  });
});

describe('TURN configuration', () => {
  it('is off without TURN_SECRET', () => {
    expect(loadConfig({}).turn).toBeUndefined();
  });

  it('takes TURN_URLS as given, with the credential lifetime', () => {
    const turn = loadConfig({
      TURN_SECRET: secret,
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349?transport=tcp',
      TURN_CREDENTIAL_TTL_SECONDS: '900',
    }).turn;
    expect(turn).toEqual({
      secret,
      urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
      credentialTtlSeconds: 900,
      server: undefined,
    });
  });

  it('starts a server on TURN_LISTEN_IP and offers its URLs at the announced address', () => {
    const turn = loadConfig({
      TURN_SECRET: secret,
      TURN_LISTEN_IP: '10.0.0.5',
      RTC_ANNOUNCED_ADDRESS: '203.0.113.7',
      TURN_RELAY_PORTS: '50000-50100',
    }).turn;
    expect(turn?.server).toEqual({
      listenIp: '10.0.0.5',
      port: 3478,
      tlsPort: 5349,
      relayPorts: { min: 50000, max: 50100 },
      allowLoopbackPeers: false,
    });
    expect(turn?.urls).toEqual(turnUrlsFor('203.0.113.7', 3478, 5349));
    expect(turn?.credentialTtlSeconds).toBe(600);
  });

  it('refuses a weak secret, bad URLs and ranges, and TURN without a secret, without echoing the secret', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return JSON.stringify((e as ConfigError).details);
      }
      return 'accepted';
    };
    const weak = problems({ TURN_SECRET: 'short-secret-value' });
    expect(weak).toContain('TURN_SECRET');
    expect(weak).not.toContain('short-secret-value');
    expect(problems({ TURN_SECRET: secret, TURN_URLS: 'http://example.com' })).toContain('TURN_URLS');
    expect(problems({ TURN_SECRET: secret, TURN_RELAY_PORTS: '60000-50000' })).toContain('TURN_RELAY_PORTS');
    expect(problems({ TURN_SECRET: secret, TURN_RELAY_PORTS: '80-90' })).toContain('TURN_RELAY_PORTS');
    expect(problems({ TURN_URLS: 'turn:example.com:3478' })).toContain('TURN_SECRET');
    expect(problems({ TURN_LISTEN_IP: '127.0.0.1' })).toContain('TURN_SECRET');
  });
});
