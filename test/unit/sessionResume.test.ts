import { describe, expect, it } from 'vitest';
import { managementApi, signalingFunction } from '../../functions/compose.ts';
import type { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { SessionKeeper } from '../../media-node/signaling/SessionKeeper.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import type { ServerMessage, SessionInfo } from '../../shared/protocol/signaling.ts';
import { testSecrets } from '../harness/controlPlane.ts';

const ROOM = 'svc/room';
const NODE = 'node-1';

/**
 * The signaling function's side of session resume, over the in-memory adapters: tickets are
 * issued at login, single use, expire with the grace period once the socket closes, and only a
 * connection that presented one resumes.
 */
function setUp(options: { graceMs?: number; nodeAlive?: boolean } = {}) {
  const adapters = memoryAdapters();
  const posted: { connectionId: string; message: ServerMessage }[] = [];
  const disconnected: string[] = [];
  const released: string[] = [];
  const config = loadConfig({ SESSION_GRACE_SECONDS: String((options.graceMs ?? 30_000) / 1000) });
  const signaling = signalingFunction(
    adapters,
    managementApi(adapters, testSecrets),
    {
      post: async (connectionId, message) => {
        posted.push({ connectionId, message });
        return true;
      },
      disconnect: async (connectionId) => void disconnected.push(connectionId),
    },
    {
      placeParticipant: async () => NODE,
      release: async (_room, node) => void released.push(node),
      canKeep: async () => true,
    },
    createLogger({ write: () => {} }),
    config,
    { nodeAlive: async () => options.nodeAlive ?? true },
  );
  const queue = adapters.commands as MemoryCommandQueue;
  const participant = {
    id: 'p1',
    user: 'ana',
    role: 'presenter',
    permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  };
  let n = 0;
  return {
    adapters,
    signaling,
    posted,
    disconnected,
    released,
    /** A token-admitted connection: what $connect leaves behind. */
    async admitted(connectionId: string) {
      await adapters.participants.put({
        ...participant,
        roomId: ROOM,
        joinedAt: new Date().toISOString(),
        version: 1,
      });
      await adapters.connections.put({ connectionId, roomId: ROOM, nodeId: NODE, participant });
    },
    async send(connectionId: string, method: string, params: unknown = {}) {
      await signaling.message(connectionId, JSON.stringify({ id: ++n, method, params }));
    },
    /** The ticket in the latest session event posted to the connection. */
    ticketOf(connectionId: string): SessionInfo | undefined {
      const events = posted.filter(
        (p) => p.connectionId === connectionId && 'event' in p.message && p.message.event === 'session',
      );
      return (events.at(-1)?.message as { data: SessionInfo } | undefined)?.data;
    },
    answers: (connectionId: string) =>
      posted.filter((p) => p.connectionId === connectionId && 'id' in p.message).map((p) => p.message),
    async forwarded(): Promise<NodeCommand[]> {
      return (await queue.receive(NODE, { waitMs: 0, max: 100 })).map(
        (r) => JSON.parse(r.body) as NodeCommand,
      );
    },
  };
}

const signalOf = (c: NodeCommand) =>
  c.type === 'signal' ? (c.request as { method: string; params: { resume?: boolean } }) : undefined;

describe('session resume in the signaling function', () => {
  it('a login gets a ticket first; a new connection with it resumes the same participant, once', async () => {
    const t = setUp();
    await t.admitted('c1');
    await t.send('c1', 'login', { resume: true });
    const first = t.ticketOf('c1')!;
    expect(first.ticket).toMatch(/^[\w-]{43}$/);
    expect(first).toMatchObject({ graceMs: 30_000, refreshMs: 300_000, maxConnectionMs: 7_200_000 });
    // A token connection never resumes, whatever its client claims.
    expect(signalOf((await t.forwarded())[0]!)?.params.resume).toBe(false);

    await t.signaling.disconnect('c1');
    expect(await t.signaling.connect('c2', undefined, first.ticket)).toEqual({ ok: true });
    expect((await t.adapters.connections.get('c2'))?.participant.id).toBe('p1');
    await t.send('c2', 'login', {});
    const commands = await t.forwarded();
    const closed = commands.find((c) => c.type === 'connection.closed');
    expect(closed).toMatchObject({ connectionId: 'c1', graceMs: 30_000 });
    const login = commands.find((c) => c.type === 'signal')!;
    expect(login).toMatchObject({ connectionId: 'c2', participant: { id: 'p1' } });
    expect(signalOf(login)?.params.resume).toBe(true);
    const second = t.ticketOf('c2')!;
    expect(second.ticket).not.toBe(first.ticket);

    // Used once: the first ticket opens nothing any more; the new one does.
    expect(await t.signaling.connect('c3', undefined, first.ticket)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(await t.signaling.connect('c4', undefined, second.ticket)).toEqual({ ok: true });
    // The participant never left: its record stayed, its node was not counted down.
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeDefined();
    expect(t.released).toEqual([]);
  });

  it('two sockets racing with one ticket: the first login resumes, the second is told and cut off', async () => {
    const t = setUp();
    await t.admitted('c1');
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.signaling.disconnect('c1');
    expect(await t.signaling.connect('a', undefined, ticket)).toEqual({ ok: true });
    expect(await t.signaling.connect('b', undefined, ticket)).toEqual({ ok: true });
    await t.send('a', 'login');
    await t.send('b', 'login');
    expect(t.answers('b')).toEqual([
      {
        id: expect.any(Number),
        ok: false,
        error: { code: 1003, message: expect.stringMatching(/already used/) },
      },
    ]);
    expect(t.disconnected).toEqual(['b']);
    expect(t.answers('a')).toEqual([]); // a's login went to the node
  });

  it('a ticket expires with the grace period once its socket closed', async () => {
    const t = setUp({ graceMs: 100 });
    await t.admitted('c1');
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.signaling.disconnect('c1');
    await new Promise((r) => setTimeout(r, 250));
    expect(await t.signaling.connect('c2', undefined, ticket)).toMatchObject({ ok: false, status: 401 });
  });

  it('a client that said goodbye leaves now: no grace, no ticket', async () => {
    const t = setUp();
    await t.admitted('c1');
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.signaling.disconnect('c1', { left: true });
    const closed = (await t.forwarded()).find((c) => c.type === 'connection.closed');
    expect(closed).toMatchObject({ graceMs: 0 });
    expect(await t.signaling.connect('c2', undefined, ticket)).toMatchObject({ ok: false, status: 401 });
  });

  it('with its node gone, a goodbye is ended here (counted down once); a cut keeps its place to resume elsewhere', async () => {
    const t = setUp({ nodeAlive: false });
    await t.admitted('c1');
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.signaling.disconnect('c1');
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeDefined();
    expect(await t.signaling.connect('c2', undefined, ticket)).toEqual({ ok: true });
    await t.signaling.disconnect('c2', { left: true });
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeUndefined();
    expect(t.released).toEqual([NODE]);
  });

  it('a session whose participant is gone (dropped, room deleted) cannot resume', async () => {
    const t = setUp();
    await t.admitted('c1');
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.adapters.participants.delete(ROOM, 'p1');
    expect(await t.signaling.connect('c2', undefined, ticket)).toMatchObject({ ok: false, status: 404 });
    expect(await t.signaling.connect('c3', undefined, 'x'.repeat(500))).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('session.refresh is answered here with a new ticket; the old one stops working', async () => {
    const t = setUp();
    await t.admitted('c1');
    await t.send('c1', 'session.refresh');
    expect(t.answers('c1')).toEqual([
      { id: expect.any(Number), ok: false, error: { code: 1101, message: 'log in first' } },
    ]);
    await t.send('c1', 'login');
    const { ticket } = t.ticketOf('c1')!;
    await t.forwarded();
    await t.send('c1', 'session.refresh');
    const answer = t.answers('c1').at(-1) as { ok: boolean; data: SessionInfo };
    expect(answer.ok).toBe(true);
    expect(answer.data.ticket).not.toBe(ticket);
    expect(await t.forwarded()).toEqual([]); // nothing for the node
    expect(await t.signaling.connect('c2', undefined, ticket)).toMatchObject({ ok: false, status: 401 });
    expect(await t.signaling.connect('c3', undefined, answer.data.ticket)).toEqual({ ok: true });
  });

  it('a cut session whose node died departs when the grace period ends, swept by a live node, unless it resumes', async () => {
    const t = setUp({ nodeAlive: false, graceMs: 100 });
    const keeper = new SessionKeeper({
      nodeId: 'node-2',
      rooms: { get: () => undefined } as unknown as RoomRegistry,
      participants: t.adapters.participants,
      roomNodes: t.adapters.roomNodes,
      departures: t.adapters.departures,
      logger: createLogger({ write: () => {} }),
    });
    await t.adapters.roomNodes.add(ROOM, NODE, 1);
    // Away and never back: swept once the grace period is over, its dead node counted down.
    await t.admitted('c1');
    await t.send('c1', 'login');
    await t.signaling.disconnect('c1');
    await keeper.sweep();
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeDefined(); // not due yet
    await new Promise((r) => setTimeout(r, 150));
    await keeper.sweep();
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeUndefined();
    expect(await t.adapters.roomNodes.counts(ROOM)).toEqual({});

    // Away and back within the grace period: the departure is cancelled, nothing is swept.
    await t.admitted('c2');
    await t.send('c2', 'login');
    await t.signaling.disconnect('c2');
    expect(await t.signaling.connect('c3', undefined, t.ticketOf('c2')!.ticket)).toEqual({ ok: true });
    await t.send('c3', 'login');
    // Resumed before its old socket's $disconnect came: the used ticket schedules nothing.
    expect(await t.signaling.connect('c4', undefined, t.ticketOf('c3')!.ticket)).toEqual({ ok: true });
    await t.send('c4', 'login');
    await t.signaling.disconnect('c3');
    await new Promise((r) => setTimeout(r, 150));
    await keeper.sweep();
    expect(await t.adapters.participants.get(ROOM, 'p1')).toBeDefined();
    await keeper.close();
  });
});
