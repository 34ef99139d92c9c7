import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamRecords } from '../../media-node/liveState/StreamRecords.ts';
import type { ParticipantSink } from '../../media-node/sfu/ParticipantSink.ts';
import type { Room } from '../../media-node/sfu/Room.ts';
import { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import { MemoryLiveCollection } from '../../shared/adapters/memory/MemoryLiveCollection.ts';
import { createLogger } from '../../shared/logger.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { mixedStreamId, ViewsSchema } from '../../shared/protocol/mcu.ts';
import type { ServerMessage } from '../../shared/protocol/signaling.ts';

const opus: types.RtpParameters = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {} }],
  encodings: [{ ssrc: 1111 }],
};
const h264: types.RtpParameters = {
  codecs: [
    {
      mimeType: 'video/H264',
      payloadType: 102,
      clockRate: 90000,
      parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
    },
  ],
  encodings: [{ ssrc: 2222 }],
};
const vp8: types.RtpParameters = {
  codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
  encodings: [{ ssrc: 3333 }],
};
const everything = { audio: true, video: true };

/** The room's streams on real mediasoup workers, without a browser: publications, origins and their records. */
describe('RoomStreams and StreamRecords on a real worker', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let records: StreamRecords;
  const store = new MemoryLiveCollection<Stream>('stream');
  const posted: { to: string; message: ServerMessage }[] = [];
  /** A sink per connection that records what the room posts to it. */
  const sinkFor = (to: string): ParticipantSink => ({
    async post(message) {
      posted.push({ to, message });
      return true;
    },
    async close() {},
  });

  beforeAll(async () => {
    const logger = createLogger({ level: 'warn' });
    pool = await WorkerPool.create({ size: 1, logger });
    rooms = new RoomRegistry(pool, { listenIp: '127.0.0.1' }, logger, {
      producersPerParticipant: 8,
      dataProducersPerParticipant: 2,
      consumersPerParticipant: 8,
    });
    await rooms.start();
    records = new StreamRecords(rooms, store, logger);
  });
  afterAll(() => {
    rooms?.close();
    pool?.close();
  });

  async function publisher(room: Room, id: string) {
    const peer = await room.join(
      { id, user: id, role: 'presenter', permission: { publish: everything, subscribe: everything } },
      `conn-${id}`,
      sinkFor(`conn-${id}`),
    );
    room.loginAnswered(id);
    const transport = await room.createTransport(peer, 'send');
    return { peer, transportId: transport.id };
  }
  const record = async (room: Room, id: string) => {
    await records.settled();
    return store.get(room.id, id);
  };

  it('a second track joins a publication: one record with both formats; pause, then the tracks go one by one', async () => {
    const room = await rooms.open('svc/pub');
    const { peer, transportId } = await publisher(room, 'ana');
    const mic = await room.publish(peer, transportId, 'audio', opus, 'mic');
    const cam = await room.publish(peer, transportId, 'video', h264, 'camera', mic.id);

    expect(room.producersOf(mic.id).map((t) => t.producer.id)).toEqual([mic.id, cam.id]);
    // A track's own id (not naming a publication) stands for that track alone.
    expect(room.producersOf(cam.id).map((t) => t.producer.id)).toEqual([cam.id]);
    expect(room.streams().map((s) => s.publication)).toEqual([mic.id, mic.id]);
    expect(await store.list(room.id)).toHaveLength(1);
    expect(await record(room, mic.id)).toMatchObject({
      id: mic.id,
      type: 'forward',
      media: {
        audio: {
          status: 'active',
          source: 'mic',
          format: { codec: 'opus', sampleRate: 48000, channelNum: 2 },
        },
        video: { status: 'active', source: 'camera', format: { codec: 'h264', profile: 'CB' } },
      },
      info: {
        owner: 'ana',
        type: 'webrtc',
        inViews: [],
        origin: { kind: 'participant', participantId: 'ana' },
      },
    });

    // The REST API's part of the record (views) survives the node's rewrites.
    const stored = (await store.get(room.id, mic.id))!;
    await store.update({
      ...stored,
      info: { ...stored.info, inViews: ['common'] },
      version: stored.version + 1,
    });
    await room.setProducerPaused(peer, cam.id, true);
    expect(await record(room, mic.id)).toMatchObject({
      media: { audio: { status: 'active' }, video: { status: 'inactive' } },
      info: { inViews: ['common'] },
    });

    // The track that named the publication goes: the publication keeps its id with what is left.
    room.unpublish(peer, mic.id);
    const left = await record(room, mic.id);
    expect(left?.media.audio).toBeUndefined();
    expect(left?.media.video?.format).toEqual({ codec: 'h264', profile: 'CB' });
    expect(room.producersOf(mic.id).map((t) => t.producer.id)).toEqual([cam.id]);
    room.unpublish(peer, cam.id);
    expect(await record(room, mic.id)).toBeUndefined();
    room.close();
  });

  it('publications are bounded: one track per kind, the publisher’s own, a live one', async () => {
    const room = await rooms.open('svc/bounds');
    const ana = await publisher(room, 'ana');
    const ben = await publisher(room, 'ben');
    const mic = await room.publish(ana.peer, ana.transportId, 'audio', opus, 'mic');
    await expect(
      room.publish(
        ana.peer,
        ana.transportId,
        'audio',
        { ...opus, encodings: [{ ssrc: 4444 }] },
        'mic',
        mic.id,
      ),
    ).rejects.toMatchObject({ code: 1303 });
    await expect(
      room.publish(ben.peer, ben.transportId, 'video', vp8, 'camera', mic.id),
    ).rejects.toMatchObject({
      code: 1004,
    });
    await expect(
      room.publish(ana.peer, ana.transportId, 'video', vp8, 'camera', 'no-such-stream'),
    ).rejects.toMatchObject({ code: 1004 });
    // Nothing refused was left behind.
    expect(ana.peer.producers.size).toBe(1);
    expect(ben.peer.producers.size).toBe(0);
    // A lone track is a publication of its own, as before publications.
    const cam = await room.publish(ben.peer, ben.transportId, 'video', vp8, 'camera');
    expect(room.stream(cam.id)?.announcement.publication).toBe(cam.id);
    expect((await record(room, cam.id))?.media).toEqual({
      video: { status: 'active', source: 'camera', format: { codec: 'vp8' } },
    });
    room.close();
    await records.settled();
    expect(await store.list(room.id)).toEqual([]);
  });

  it('origins: a pipeline’s output is recorded (mixed), a piped-in stream is not; both are withdrawn by id', async () => {
    const room = await rooms.open('svc/origins');
    const watcher = await publisher(room, 'watcher');
    const direct = await room.router.createDirectTransport();
    const mixed = await direct.produce({ kind: 'video', rtpParameters: vp8 });
    await room.addStream(
      mixed,
      { id: mixed.id, owner: 'mixer', kind: 'video', source: 'mixed', paused: false, type: 'mixed' },
      { kind: 'pipeline', pipelineId: 'mix-1' },
    );
    expect(await record(room, mixed.id)).toMatchObject({
      type: 'mixed',
      media: { video: { source: 'mixed', format: { codec: 'vp8' } } },
      info: { type: 'mixed', origin: { kind: 'pipeline', pipelineId: 'mix-1' } },
    });
    const piped = await direct.produce({ kind: 'audio', rtpParameters: opus });
    await room.addStream(
      piped,
      { id: piped.id, owner: 'far', kind: 'audio', source: 'mic', paused: false, publication: 'far-pub' },
      { kind: 'pipe', fromNode: 'node-b' },
    );
    expect(room.producersOf('far-pub').map((t) => t.origin)).toEqual([{ kind: 'pipe', fromNode: 'node-b' }]);
    expect(await record(room, 'far-pub')).toBeUndefined();
    // Local peers hear of both, with the publication the other node gave.
    const added = posted
      .filter((p) => p.to === 'conn-watcher' && 'event' in p.message && p.message.event === 'stream')
      .map((p) => (p.message as { data: { stream: { id: string; publication?: string } } }).data.stream);
    expect(added).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: piped.id, publication: 'far-pub' })]),
    );
    // withdrawStream never removes a participant's track.
    const own = await room.publish(watcher.peer, watcher.transportId, 'audio', opus, 'mic');
    room.withdrawStream(own.id);
    expect(own.closed).toBe(false);
    room.withdrawStream(mixed.id);
    room.withdrawStream(piped.id);
    expect(mixed.closed && piped.closed).toBe(true);
    expect(await record(room, mixed.id)).toBeUndefined();
    expect(room.streams().map((s) => s.id)).toEqual([own.id]);
    room.close();
  });

  it("a mixer's tracks make one OWT mixed stream: label, layout, active input, the view's video parameters", async () => {
    const room = await rooms.open('svc/mix');
    // What the views.configure handler does on the host.
    room.setViews(
      ViewsSchema.parse([
        {
          label: 'common',
          video: {
            format: { codec: 'h264' },
            parameters: { resolution: { width: 1280, height: 720 }, framerate: 30, bitrate: 2000 },
          },
        },
        { label: 'voice', video: false },
      ]),
    );
    const ana = await publisher(room, 'ana');
    const mic = await room.publish(ana.peer, ana.transportId, 'audio', opus, 'mic');
    // OWT mixes a publication into every view on publish.
    expect((await record(room, mic.id))?.info.inViews).toEqual(['common', 'voice']);

    const id = mixedStreamId('common');
    const region = (left: number) => ({
      id: String(left),
      shape: 'rectangle' as const,
      area: { left, top: 0, width: 0.5, height: 1 },
    });
    const direct = await room.router.createDirectTransport();
    const video = await direct.produce({ kind: 'video', rtpParameters: h264 });
    const audio = await direct.produce({
      kind: 'audio',
      rtpParameters: { ...opus, encodings: [{ ssrc: 5555 }] },
    });
    const mixer = {
      owner: 'mix-common',
      source: 'mixed',
      paused: false,
      type: 'mixed' as const,
      label: 'common',
    };
    const origin = { kind: 'pipeline' as const, pipelineId: 'mix-common' };
    await room.addStream(
      video,
      {
        ...mixer,
        id: video.id,
        kind: 'video',
        publication: id,
        layout: [{ stream: mic.id, region: region(0) }],
      },
      origin,
    );
    await room.addStream(audio, { ...mixer, id: audio.id, kind: 'audio', publication: id }, origin);
    expect(await record(room, id)).toEqual({
      id,
      roomId: room.id,
      type: 'mixed',
      media: {
        video: {
          status: 'active',
          source: 'mixed',
          format: { codec: 'h264', profile: 'CB' },
          parameters: { resolution: { width: 1280, height: 720 }, framerate: 30, bitrate: 2000 },
        },
        audio: {
          status: 'active',
          source: 'mixed',
          format: { codec: 'opus', sampleRate: 48000, channelNum: 2 },
        },
      },
      info: {
        type: 'mixed',
        inViews: [],
        label: 'common',
        layout: [{ stream: mic.id, region: region(0) }],
        origin,
      },
      version: 2,
    });

    // The mixer changes its layout and picks an active input: the record follows, peers hear of it.
    room.updateStream(video.id, { layout: [{ region: region(0) }, { stream: mic.id, region: region(0.5) }] });
    room.updateStream(audio.id, { activeInput: mic.id });
    expect((await record(room, id))?.info).toMatchObject({
      layout: [{ region: region(0) }, { stream: mic.id, region: region(0.5) }],
      activeInput: mic.id,
    });
    const updates = posted.filter(
      (p) =>
        p.to === 'conn-ana' &&
        'event' in p.message &&
        p.message.event === 'stream' &&
        p.message.data.status === 'update' &&
        p.message.data.stream.publication === id,
    );
    expect(updates).toHaveLength(2);
    // A participant's track is not a pipeline's: its announcement is not the mixer's to change.
    room.updateStream(mic.id, { activeInput: 'x' });
    expect(room.stream(mic.id)?.announcement.activeInput).toBeUndefined();
    room.close();
    await records.settled();
    expect(await store.list(room.id)).toEqual([]);
  });
});
