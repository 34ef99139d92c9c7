import { beforeEach, describe, expect, it } from 'vitest';
import { managementApi, signalingFunction } from '../../functions/compose.ts';
import { Commands } from '../../functions/services/Commands.ts';
import { ParticipantService } from '../../functions/services/ParticipantService.ts';
import type { RoomService } from '../../functions/services/RoomService.ts';
import type { Caller } from '../../functions/services/ServiceRegistry.ts';
import { MemoryCommandQueue } from '../../shared/adapters/memory/MemoryCommandQueue.ts';
import { MemoryLiveCollection } from '../../shared/adapters/memory/MemoryLiveCollection.ts';
import { MemoryPlacementStore } from '../../shared/adapters/memory/MemoryPlacementStore.ts';
import { MemoryRoomNodes } from '../../shared/adapters/memory/MemoryRoomNodes.ts';
import { memoryAdapters } from '../../shared/adapters/select.ts';
import { loadConfig } from '../../shared/config/load.ts';
import { ErrorCodes, type TesseraError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { NodeCommandSchema } from '../../shared/protocol/commands.ts';
import type { Participant, Stream } from '../../shared/protocol/http/liveState.ts';
import { testSecrets } from '../harness/controlPlane.ts';

const ROOM = 'svc~room';
const NODES = ['node-1', 'node-2', 'node-3'];

let bus: MemoryCommandQueue;
let participants: MemoryLiveCollection<Participant>;
let streams: MemoryLiveCollection<Stream>;
let placement: MemoryPlacementStore;
let roomNodes: MemoryRoomNodes;
let commands: Commands;

/** What each node's queue holds now (validated as the node would). */
async function delivered(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const node of NODES) {
    const got = await bus.receive(node, { waitMs: 0, max: 10 });
    const types = got.map((r) => NodeCommandSchema.parse(JSON.parse(r.body)).type);
    if (types.length) out[node] = types;
  }
  return out;
}

const participant = (id: string, nodeId?: string): Participant => ({
  id,
  roomId: ROOM,
  user: id,
  role: 'presenter',
  permission: { publish: { audio: true, video: true }, subscribe: { audio: true, video: true } },
  joinedAt: new Date().toISOString(),
  ...(nodeId ? { nodeId } : {}),
  version: 1,
});

const stream = (id: string, nodeId?: string): Stream => ({
  id,
  roomId: ROOM,
  type: 'forward',
  media: { video: { status: 'active', format: { codec: 'VP8' } } },
  info: { owner: 'p', type: 'webrtc', inViews: [] },
  ...(nodeId ? { nodeId } : {}),
  version: 1,
});

beforeEach(async () => {
  bus = new MemoryCommandQueue();
  participants = new MemoryLiveCollection<Participant>('participant');
  streams = new MemoryLiveCollection<Stream>('stream');
  placement = new MemoryPlacementStore();
  roomNodes = new MemoryRoomNodes();
  commands = new Commands({ commands: bus, placement, roomNodes, participants, streams });
  // A room placed on node-1 that spans node-2 (node-3 is in the cluster, not in the room).
  await placement.set(ROOM, 'node-1');
  await roomNodes.add(ROOM, 'node-1', 2);
  await roomNodes.add(ROOM, 'node-2', 1);
});

describe('commands by target', () => {
  it("a participant's command goes to the node in its record, and only there", async () => {
    await participants.put(participant('p2', 'node-2'));
    const to = await commands.toParticipant({ type: 'participant.drop', roomId: ROOM, participantId: 'p2' });
    expect(to).toEqual(['node-2']);
    expect(await delivered()).toEqual({ 'node-2': ['participant.drop'] });
  });

  it('a record without a node (written before records named one) falls back to every node of the room', async () => {
    await participants.put(participant('old'));
    await commands.toParticipant({
      type: 'participant.permission',
      roomId: ROOM,
      participantId: 'old',
      permission: { publish: false, subscribe: false },
    });
    expect(await delivered()).toEqual({
      'node-1': ['participant.permission'],
      'node-2': ['participant.permission'],
    });
  });

  it('a missing participant or stream is a not-found with its stable code, and nothing is sent', async () => {
    const missing = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: TesseraError) => e.code,
      );
    expect(
      await missing(commands.toParticipant({ type: 'participant.drop', roomId: ROOM, participantId: 'x' })),
    ).toBe(ErrorCodes.participantNotFound);
    expect(
      await missing(commands.toStreamOwner({ type: 'stream.remove', roomId: ROOM, streamId: 'x' })),
    ).toBe(ErrorCodes.streamNotFound);
    expect(await delivered()).toEqual({});
  });

  it("a stream's command goes to its owner's node; an old record to every node of the room", async () => {
    await streams.put(stream('s2', 'node-2'));
    await streams.put(stream('s-old'));
    await commands.toStreamOwner({ type: 'stream.remove', roomId: ROOM, streamId: 's2' });
    expect(await delivered()).toEqual({ 'node-2': ['stream.remove'] });
    await commands.toStreamOwner({ type: 'stream.remove', roomId: ROOM, streamId: 's-old' });
    expect(await delivered()).toEqual({ 'node-1': ['stream.remove'], 'node-2': ['stream.remove'] });
  });

  it('room-wide commands reach every node of the room, each copy with its own id', async () => {
    const to = await commands.toRoomNodes({ type: 'room.close', roomId: ROOM });
    expect(to.sort()).toEqual(['node-1', 'node-2']);
    const bodies = await Promise.all(
      ['node-1', 'node-2'].map(async (n) =>
        JSON.parse((await bus.receive(n, { waitMs: 0, max: 1 }))[0]!.body),
      ),
    );
    expect(new Set(bodies.map((b) => b.id)).size).toBe(2);
    expect(await delivered()).toEqual({});
  });

  it("the room's host is its placement; a room with no node is a cluster fault only where one is needed", async () => {
    expect(await commands.toRoomHost({ type: 'room.close', roomId: ROOM })).toEqual(['node-1']);
    expect(await delivered()).toEqual({ 'node-1': ['room.close'] });

    const empty = 'svc~empty';
    expect(await commands.toRoomNodes({ type: 'room.close', roomId: empty })).toEqual([]);
    await expect(commands.toRoomHost({ type: 'room.close', roomId: empty })).rejects.toMatchObject({
      code: ErrorCodes.clusterUnavailable,
    });
    await participants.put({ ...participant('lost'), roomId: empty });
    await expect(
      commands.toParticipant({ type: 'participant.drop', roomId: empty, participantId: 'lost' }),
    ).rejects.toMatchObject({ code: ErrorCodes.clusterUnavailable });
  });
});

describe("the participant's record names its node", () => {
  it('written at login, rewritten when the session moves to another node; commands follow it', async () => {
    const adapters = memoryAdapters();
    let node = 'node-1';
    let keep = true;
    const signaling = signalingFunction(
      adapters,
      managementApi(adapters, testSecrets),
      { post: async () => true, disconnect: async () => {} },
      { placeParticipant: async () => node, release: async () => {}, canKeep: async () => keep },
      createLogger({ write: () => {} }),
      loadConfig({}),
      { nodeAlive: async () => true },
    );
    const { roomId: _, joinedAt: __, version: ___, ...who } = participant('p1');
    await adapters.participants.put(participant('p1'));
    await adapters.connections.put({ connectionId: 'c1', roomId: ROOM, nodeId: 'node-1', participant: who });
    const login = (id: number) =>
      signaling.message('c1', JSON.stringify({ id, method: 'login', params: {} }));
    const drop = { type: 'participant.drop', roomId: ROOM, participantId: 'p1' } as const;
    const commands = new Commands(adapters);

    await login(1);
    expect((await adapters.participants.get(ROOM, 'p1'))?.nodeId).toBe('node-1');
    expect(await commands.toParticipant(drop)).toEqual(['node-1']);

    // Its node is leaving (or died): the next login moves it, and its record with it.
    keep = false;
    node = 'node-2';
    await login(2);
    expect((await adapters.participants.get(ROOM, 'p1'))?.nodeId).toBe('node-2');
    expect(await commands.toParticipant(drop)).toEqual(['node-2']);
  });
});

describe('REST drop', () => {
  it('counts the dropped participant off its node (whoever deletes the record counts it down)', async () => {
    const rooms = { key: async () => ROOM } as unknown as RoomService;
    const service = new ParticipantService(rooms, participants, commands, roomNodes);
    await participants.put(participant('p2', 'node-2'));
    await service.drop({ serviceId: 'svc' } as unknown as Caller, 'room', 'p2');
    expect(await delivered()).toEqual({ 'node-2': ['participant.drop'] });
    expect(await participants.get(ROOM, 'p2')).toBeUndefined();
    expect(await roomNodes.counts(ROOM)).toEqual({ 'node-1': 2 });
  });
});
