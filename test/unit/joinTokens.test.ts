import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { JoinTokens } from '../../functions/services/JoinTokens.ts';
import { MemoryTokenLedger } from '../../shared/adapters/memory/MemoryTokenLedger.ts';
import { type Room, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';

const room = (id: string): Room => ({
  id,
  serviceId: 'svc',
  name: id,
  options: RoomOptionsSchema.parse({}),
  version: 1,
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
});

function tokens(now = () => Date.now(), secret = 'secret') {
  return new JoinTokens({ secret, ledger: new MemoryTokenLedger(now), ttlSeconds: 60, now });
}

describe('join tokens', () => {
  it('carry room, user, role, permissions and preference, and redeem once', async () => {
    const t = tokens();
    const issued = await t.issue(room('r1'), { user: 'ana', role: 'viewer', preference: { region: 'eu' } });
    const claims = await t.verify(issued.token);
    expect(await t.spend(claims)).toBe(true);
    expect(claims).toMatchObject({
      tokenId: issued.id,
      roomId: 'r1',
      serviceId: 'svc',
      user: 'ana',
      role: 'viewer',
      permission: { publish: { audio: false, video: false }, subscribe: { audio: true, video: true } },
      preference: { region: 'eu' },
    });
    expect(await t.spend(await t.verify(issued.token))).toBe(false);
  });

  it('are rejected when expired', async () => {
    let now = Date.now();
    const t = tokens(() => now);
    const issued = await t.issue(room('r1'), { user: 'ana', role: 'presenter' });
    now += 61_000;
    await expect(t.verify(issued.token)).rejects.toThrow('join token expired');
  });

  it('are rejected when forged: another secret, a changed claim, or alg none', async () => {
    const t = tokens();
    const issued = await t.issue(room('r1'), { user: 'ana', role: 'presenter' });
    const other = await tokens(Date.now, 'another-secret').issue(room('r1'), {
      user: 'eve',
      role: 'presenter',
    });
    await expect(t.verify(other.token)).rejects.toThrow('join token invalid');

    const [header, payload, signature] = issued.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = Buffer.from(JSON.stringify({ ...claims, role: 'sip', user: 'eve' })).toString(
      'base64url',
    );
    await expect(t.verify(`${header}.${tampered}.${signature}`)).rejects.toThrow('join token invalid');

    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await expect(t.verify(`${none}.${payload}.`)).rejects.toThrow('join token invalid');
    // The genuine token is still unspent after the forgeries.
    expect(await t.spend(await t.verify(issued.token))).toBe(true);
  });

  it('name the room they were issued for: its service, id and creation', async () => {
    const t = tokens();
    const r1 = room('r1');
    const issued = await t.issue(r1, { user: 'ana', role: 'presenter' });
    expect(await t.verify(issued.token)).toMatchObject({
      roomId: 'r1',
      serviceId: 'svc',
      roomCreatedAt: r1.createdAt,
    });
  });

  it('are rejected when validly signed but never issued (not in the ledger)', async () => {
    const t = tokens();
    const unrecorded = await new SignJWT({
      room: 'r1',
      svc: 'svc',
      user: 'eve',
      role: 'presenter',
      perm: { publish: false, subscribe: { audio: true, video: true } },
      pref: {},
      rca: '2026-11-30T00:00:00.000Z',
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setJti('made-up')
      .setIssuer('tessera')
      .setAudience('tessera:join')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('secret'));
    expect(await t.spend(await t.verify(unrecorded))).toBe(false);
  });

  it('are refused when their claims are not what Tessera issues', async () => {
    const odd = await new SignJWT({ room: 'r1', svc: 'svc', user: 'eve', role: 'presenter', perm: 'all' })
      .setProtectedHeader({ alg: 'HS256' })
      .setJti('odd')
      .setIssuer('tessera')
      .setAudience('tessera:join')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('secret'));
    await expect(tokens().verify(odd)).rejects.toThrow('join token invalid');
  });

  it('can be given back once after a refused join, and then spent once more', async () => {
    const t = tokens();
    const issued = await t.issue(room('r1'), { user: 'ana', role: 'presenter' });
    const claims = await t.verify(issued.token);
    expect(await t.spend(claims)).toBe(true);
    expect(await t.spend(claims)).toBe(false);
    await t.restore(claims);
    expect(await t.spend(claims)).toBe(true);
  });

  it('are refused for a role the room does not define', async () => {
    await expect(tokens().issue(room('r1'), { user: 'ana', role: 'admin' })).rejects.toThrow(/role admin/);
  });
});
