import { beforeEach, describe, expect, it } from 'vitest';
import { managementApi } from '../../functions/compose.ts';
import { Commands } from '../../functions/services/Commands.ts';
import type { ManagementApi } from '../../functions/services/ManagementApi.ts';
import { RoomViews } from '../../functions/services/RoomViews.ts';
import type { Caller } from '../../functions/services/ServiceRegistry.ts';
import { RoomPlacer } from '../../functions/signaling/RoomPlacer.ts';
import type { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryNodeRegistry } from '../../shared/adapters/memory/MemoryNodeRegistry.ts';
import { type Adapters, memoryAdapters } from '../../shared/adapters/select.ts';
import { type NodeCommand, NodeCommandSchema } from '../../shared/protocol/commands.ts';
import { RoomBodySchema, roomInput, roomResponse } from '../../shared/protocol/http/room.ts';
import { roomKey } from '../../shared/protocol/http/roomKey.ts';
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
