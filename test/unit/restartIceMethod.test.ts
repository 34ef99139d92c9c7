import { describe, expect, it } from 'vitest';
import { type MethodContext, methods } from '../../media-node/signaling/methods.ts';

// A relayed client in a long meeting restarts ICE long after its login: the answer must carry
// TURN credentials that are still valid (coturn checks them when an allocation is made).
describe('transport.restartIce', () => {
  const iceParameters = { usernameFragment: 'u', password: 'p', iceLite: true };
  const ctx = (iceServers?: () => { urls: string[]; username: string; credential: string }[]) =>
    ({
      peer: { transports: new Map([['t1', { restartIce: async () => iceParameters }]]) },
      ...(iceServers ? { iceServers } : {}),
    }) as unknown as MethodContext;

  it('answers new ICE parameters with fresh TURN credentials when the deployment runs TURN', async () => {
    let issued = 0;
    const fresh = () => [{ urls: ['turn:127.0.0.1:3478'], username: `${++issued}:p1`, credential: 'c' }];
    expect(await methods['transport.restartIce'](ctx(fresh), { transportId: 't1' })).toEqual({
      iceParameters,
      iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: '1:p1', credential: 'c' }],
    });
    expect(issued).toBe(1);
  });

  it('answers only ICE parameters without TURN, and refuses an unknown transport', async () => {
    expect(await methods['transport.restartIce'](ctx(), { transportId: 't1' })).toEqual({ iceParameters });
    await expect(methods['transport.restartIce'](ctx(), { transportId: 'nope' })).rejects.toMatchObject({
      code: 1001,
    });
  });
});
