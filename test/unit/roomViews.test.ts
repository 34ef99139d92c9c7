import { beforeEach, describe, expect, it } from 'vitest';
import { managementApi, signalingFunction } from '../../functions/compose.ts';
import { Commands } from '../../functions/services/Commands.ts';
import type { ManagementApi } from '../../functions/services/ManagementApi.ts';
import { RoomViews } from '../../functions/services/RoomViews.ts';
import type { Caller } from '../../functions/services/ServiceRegistry.ts';
import { RoomPlacer } from '../../functions/signaling/RoomPlacer.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryNodeRegistry } from '../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { type Adapters, memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { createLogger } from '../../shared/logger.ts';
import { type NodeCommand, NodeCommandSchema } from '../../shared/protocol/commands.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { RoomBodySchema, roomInput, roomResponse } from '../../shared/protocol/http/room.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
import type { SignalingResponse } from '../../shared/protocol/signaling.ts';
import { testSecrets } from '../harness/controlPlane.ts';
import { nodeReport } from '../harness/nodeReport.ts';

const caller: Caller = { serviceId: 'svc', isSuper: false };
const NODES = ['node-1', 'node-2'];

let adapters: Adapters;
let api: ManagementApi;
let registry: MemoryNodeRegistry;
let placer: RoomPlacer;

/** A request body as the routes parse it. */
const body = (b: object) => roomInput(RoomBodySchema.parse(b));

/** What each node's queue holds now, as the node would parse it. */
async function delivered(): Promise<Record<string, NodeCommand[]>> {
  const out: Record<string, NodeCommand[]> = {};
  for (const node of NODES) {
    const got = await (adapters.commands as MemoryCommandQueue).receive(node, { waitMs: 0, max: 10 });
    if (got.length) out[node] = got.map((r) => NodeCommandSchema.parse(JSON.parse(r.body)));
  }
  return out;
}

beforeEach(async () => {
  adapters = memoryAdapters();
  api = managementApi(adapters, testSecrets);
  registry = new MemoryNodeRegistry();
  await registry.report(nodeReport('node-1', { load: 0.1 }));
  await registry.report(nodeReport('node-2', { load: 0.5 }));
  const views = new RoomViews({ ...adapters, commands: new Commands(adapters) });
  placer = new RoomPlacer({
    placement: adapters.placement,
    roomNodes: adapters.roomNodes,
    registry,
    strategy: 'least-used',
    snapshotMs: 0,
    onPlaced: (room, node) => views.placed(room, node),
  });
});

describe('views.configure reaches the room host', () => {
  it('once per placement: the first join, not the next ones; again on the node the room moves to', async () => {
    const room = await api.rooms.create(caller, {
      name: 'mix',
      ...body({ options: { views: [{ label: 'main' }] } }),
    });
    const key = roomKey('svc', room.id);
    expect(await placer.placeParticipant(key, {})).toBe('node-1');
    expect(await placer.placeParticipant(key, {})).toBe('node-1');
    const first = await delivered();
    expect(Object.keys(first)).toEqual(['node-1']);
    expect(first['node-1']).toEqual([
      expect.objectContaining({ type: 'views.configure', roomId: key, views: room.options.views }),
    ]);
    expect(first['node-1']![0]).toMatchObject({ views: [{ label: 'main', video: { maxInput: 16 } }] });

    // node-1 stops reporting (failed): the next join moves the room, and its new host learns the views.
    await registry.report(nodeReport('node-1', { reportedAt: Date.now() - 60_000 }));
    expect(await placer.placeParticipant(key, {}, 'node-1')).toBe('node-2');
    expect(await placer.placeParticipant(key, {})).toBe('node-2');
    const moved = await delivered();
    expect(Object.keys(moved)).toEqual(['node-2']);
    expect(moved['node-2']!.map((c) => c.type)).toEqual(['views.configure']);
  });

  it("OWT's default room sends its one 'common' view; a room with views: [] sends an empty list", async () => {
    const plain = await api.rooms.create(caller, { name: 'plain', options: {} });
    const none = await api.rooms.create(caller, { name: 'none', ...body({ options: { views: [] } }) });
    await placer.placeParticipant(roomKey('svc', plain.id), {});
    await placer.placeParticipant(roomKey('svc', none.id), {});
    const got = (await delivered())['node-1']!;
    expect(got.map((c) => (c.type === 'views.configure' ? c.views.map((v) => v.label) : c.type))).toEqual([
      ['common'],
      [],
    ]);
  });

  it('PUT and PATCH that change the views re-send them to the host; other changes send nothing', async () => {
    const room = await api.rooms.create(caller, { name: 'live', options: {} });
    const key = roomKey('svc', room.id);
    // Not placed yet: nothing to tell (the placement will carry the views).
    await api.rooms.patch(caller, room.id, body({ views: [{ label: 'a' }] }));
    expect(await delivered()).toEqual({});

    await placer.placeParticipant(key, {});
    await delivered();
    await api.rooms.patch(caller, room.id, { form: 'flat', options: { participantLimit: 9 } });
    expect(await delivered()).toEqual({});
    const put = await api.rooms.replace(
      caller,
      room.id,
      body({ options: { views: [{ label: 'a' }, { label: 'b', audio: false }] } }),
    );
    const sent = (await delivered())['node-1']!;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'views.configure', roomId: key });
    expect(sent[0]!.type === 'views.configure' && sent[0]!.views).toEqual(roomResponse(put).views);
  });
});

describe('a room that spans nodes: its other nodes record the views without mixing', () => {
  it('the first participant placed on another node sends it views.configure mixing: false; changes reach both', async () => {
    const views = new RoomViews({ ...adapters, commands: new Commands(adapters) });
    const spanning = new RoomPlacer({
      placement: adapters.placement,
      roomNodes: adapters.roomNodes,
      peersPerNode: 1,
      registry,
      strategy: 'least-used',
      snapshotMs: 0,
      onPlaced: (room, node) => views.placed(room, node),
      onSpread: (room, node) => views.spread(room, node),
    });
    const room = await api.rooms.create(caller, {
      name: 'span',
      ...body({ options: { views: [{ label: 'main' }] } }),
    });
    const key = roomKey('svc', room.id);
    expect(await spanning.placeParticipant(key, {})).toBe('node-1');
    expect(await spanning.placeParticipant(key, {})).toBe('node-2');
    // Both full: the host takes the next (nothing new to tell).
    expect(await spanning.placeParticipant(key, {})).toBe('node-1');
    const placed = await delivered();
    expect(placed['node-1']).toEqual([expect.objectContaining({ type: 'views.configure', roomId: key })]);
    expect(placed['node-1']![0]).not.toHaveProperty('mixing');
    expect(placed['node-2']).toEqual([
      expect.objectContaining({
        type: 'views.configure',
        roomId: key,
        mixing: false,
        views: room.options.views,
      }),
    ]);

    await api.rooms.patch(caller, room.id, body({ views: [{ label: 'main' }, { label: 'b' }] }));
    const changed = await delivered();
    expect(changed['node-1']![0]).not.toHaveProperty('mixing');
    expect(changed['node-2']![0]).toMatchObject({ type: 'views.configure', mixing: false });
    for (const node of NODES)
      expect(
        changed[node]![0]!.type === 'views.configure' && changed[node]![0]!.views.map((v) => v.label),
      ).toEqual(['main', 'b']);
  });
});

describe('signaling stream.mix (the SDK mix/unmix)', () => {
  it("mixes the caller's own stream into a view, sends stream.control to every node of the room; refuses others'", async () => {
    const posted: SignalingResponse[] = [];
    const signaling = signalingFunction(
      adapters,
      api,
      {
        post: async (_, message) => {
          posted.push(message as SignalingResponse);
          return true;
        },
        disconnect: async () => {},
      },
      { placeParticipant: async () => 'node-2' },
      createLogger({ write: () => {} }),
      loadConfig({}),
    );
    const room = await api.rooms.create(caller, {
      name: 'sdk',
      ...body({ options: { views: [{ label: 'common' }, { label: 'stage' }] } }),
    });
    const key = roomKey('svc', room.id);
    await adapters.placement.set(key, 'node-1');
    // node-2 holds participants of the room too: it makes their mix-minus, which follows inViews.
    await adapters.roomNodes.add(key, 'node-2', 1);
    const own = (id: string, owner: string): Stream => ({
      id,
      roomId: key,
      type: 'forward',
      media: { audio: { status: 'active', format: { codec: 'opus' } } },
      info: { owner, type: 'webrtc', inViews: ['common'] },
      nodeId: 'node-2',
      version: 1,
    });
    await adapters.streams.put(own('mine', 'p1'));
    await adapters.streams.put(own('theirs', 'p2'));
    const who = {
      id: 'p1',
      user: 'ana',
      role: 'presenter',
      permission: { publish: false, subscribe: false },
    } as const;
    await adapters.connections.put({ connectionId: 'c1', roomId: key, nodeId: 'node-2', participant: who });
    const mix = async (id: number, params: object) => {
      await signaling.message('c1', JSON.stringify({ id, method: 'stream.mix', params }));
      return posted.find((p) => p.id === id);
    };

    // Before login: no.
    expect((await mix(1, { streamId: 'mine', view: 'stage', op: 'add' }))?.error?.code).toBe(1101);
    await adapters.connections.put({
      connectionId: 'c1',
      roomId: key,
      nodeId: 'node-2',
      participant: who,
      ticket: 't',
    });
    expect(await mix(2, { streamId: 'mine', view: 'stage', op: 'add' })).toEqual({
      id: 2,
      ok: true,
      data: {},
    });
    expect((await adapters.streams.get(key, 'mine'))?.info.inViews).toEqual(['common', 'stage']);
    const control = expect.objectContaining({
      type: 'stream.control',
      roomId: key,
      streamId: 'mine',
      ops: [{ op: 'add', path: '/info/inViews', value: 'stage' }],
    });
    expect(await delivered()).toEqual({ 'node-1': [control], 'node-2': [control] });
    expect(await mix(3, { streamId: 'mine', view: 'common', op: 'remove' })).toMatchObject({ ok: true });
    expect((await adapters.streams.get(key, 'mine'))?.info.inViews).toEqual(['stage']);
    await delivered();

    // Someone else's stream, a view the room lacks, a stream that is not there, bad params.
    expect((await mix(4, { streamId: 'theirs', view: 'stage', op: 'add' }))?.error?.code).toBe(1102);
    expect((await mix(5, { streamId: 'mine', view: 'nope', op: 'add' }))?.error?.code).toBe(1301);
    expect((await mix(6, { streamId: 'gone', view: 'stage', op: 'add' }))?.error?.code).toBe(1004);
    expect((await mix(7, { streamId: 'mine', view: 'stage', op: 'toggle' }))?.error?.code).toBe(1301);
    expect(await delivered()).toEqual({});
    expect((await adapters.streams.get(key, 'theirs'))?.info.inViews).toEqual(['common']);
  });
});

describe('a host that comes back under its id', () => {
  it('gets the views again when a failover login stays on it; a non-host node does not', async () => {
    let keep = true;
    const signaling = signalingFunction(
      adapters,
      api,
      { post: async () => true, disconnect: async () => {} },
      { placeParticipant: async () => 'node-2', release: async () => {}, canKeep: async () => keep },
      createLogger({ write: () => {} }),
      loadConfig({}),
      { nodeAlive: async () => true },
    );
    const room = await api.rooms.create(caller, { name: 'back', ...body({ options: {} }) });
    const key = roomKey('svc', room.id);
    await adapters.placement.set(key, 'node-1');
    const login = async (id: string, nodeId: string, failover: boolean) => {
      const who = {
        id,
        user: id,
        role: 'presenter',
        permission: { publish: false, subscribe: false },
      } as const;
      await adapters.participants.put({
        ...who,
        roomId: key,
        joinedAt: new Date().toISOString(),
        version: 1,
      });
      await adapters.connections.put({ connectionId: `c-${id}`, roomId: key, nodeId, participant: who });
      await signaling.message(`c-${id}`, JSON.stringify({ id: 1, method: 'login', params: { failover } }));
      const sent = await delivered();
      return Object.fromEntries(Object.entries(sent).map(([n, cs]) => [n, cs.map((c) => c.type)]));
    };
    expect(await login('a', 'node-1', false)).toEqual({ 'node-1': ['signal'] });
    expect(await login('b', 'node-1', true)).toEqual({ 'node-1': ['views.configure', 'signal'] });
    expect(await login('c', 'node-2', true)).toEqual({ 'node-2': ['signal'] });
    // Moved off its node instead: the placer's decision sends the views (not this path).
    keep = false;
    expect(await login('d', 'node-1', true)).toEqual({ 'node-2': ['signal'] });
  });
});
