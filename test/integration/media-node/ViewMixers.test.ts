import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommandHandlers } from '../../../media-node/commands/handlers.ts';
import { FfmpegProcess } from '../../../media-node/ffmpeg/FfmpegProcess.ts';
import { sdpForRtpReceiver } from '../../../media-node/ffmpeg/sdp.ts';
import { type MixedStreamInfo, ViewMixers } from '../../../media-node/mcu/ViewMixers.ts';
import { Pipelines } from '../../../media-node/pipelines/Pipelines.ts';
import { roomStreamPublisher } from '../../../media-node/pipelines/publisher.ts';
import type { Room } from '../../../media-node/sfu/Room.ts';
import type { RoomRegistry } from '../../../media-node/sfu/RoomRegistry.ts';
import type { WorkerPool } from '../../../media-node/workers/WorkerPool.ts';
import { createLogger } from '../../../shared/logger.ts';
import { type NodeCommand, NodeCommandSchema } from '../../../shared/protocol/commands.ts';
import { mixedStreamId, ViewsSchema } from '../../../shared/protocol/mcu.ts';
import { type LavfiSourceOptions, publishLavfi } from '../../harness/lavfiSource.ts';
import { roomsOnWorker } from '../../harness/roomsOnWorker.ts';
import { freeUdpPortPair } from '../../harness/udp.ts';

const logger = createLogger({ level: 'error' });
const dir = mkdtempSync(join(tmpdir(), 'tessera-mcu-'));

const until = async <T>(probe: () => T | Promise<T>, accept: (v: T) => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
};

/** Power of one frequency in the samples (Goertzel). */
function goertzel(samples: Int16Array, freq: number, rate = 48000): number {
  const k = (2 * Math.cos((2 * Math.PI * freq) / rate)) as number;
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.length;
}

describe('view mixers on a real worker: sources → mixed view → decoded output', () => {
  let pool: WorkerPool;
  let rooms: RoomRegistry;
  let pipelines: Pipelines;
  let mixers: ViewMixers;
  const processes: FfmpegProcess[] = [];

  beforeAll(async () => {
    ({ pool, rooms } = await roomsOnWorker(logger));
    pipelines = new Pipelines({ rooms, kinds: {}, publisher: roomStreamPublisher, logger });
    mixers = new ViewMixers({ rooms, pipelines, logger });
  }, 30_000);

  // A test's sources and receivers (ffmpeg encoding and decoding) end with it: left running,
  // they would load the next test's mixers on a 2-core machine.
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.close(300)));
  });

  afterAll(async () => {
    mixers?.close();
    pipelines?.close();
    await Promise.all(processes.map((p) => p.close(300)));
    rooms?.close();
    pool?.close();
  });

  const handle = () =>
    nodeCommandHandlers(rooms, undefined as never, undefined, undefined as never, pipelines, mixers);
  const command = (roomId: string, body: Record<string, unknown>): NodeCommand =>
    NodeCommandSchema.parse({ id: randomUUID(), issuedAt: new Date().toISOString(), roomId, ...body });

  /** A view `common` of video only, small (320x240 at 15 fps, H.264): cheap to mix. */
  const smallVideoView = () =>
    ViewsSchema.parse([
      {
        label: 'common',
        audio: false,
        video: {
          format: { codec: 'h264' },
          parameters: { resolution: { width: 320, height: 240 }, framerate: 15 },
        },
      },
    ]);

  /** The pipelines' ffmpeg count once it is `n` (or what it is after 10 s). */
  const processesBecome = (n: number) =>
    until(
      () => pipelines.usage().processes.length,
      (count) => count === n,
      10_000,
    );

  /** The view `common`'s whole layout replaced, as REST's `/info/layout` op reaches the node. */
  const setLayout = (roomId: string, value: unknown[]) =>
    handle()(
      command(roomId, {
        type: 'stream.control',
        streamId: mixedStreamId('common'),
        ops: [{ op: 'replace', path: '/info/layout', value }],
      }),
    );

  /** A participant's publication fed by an ffmpeg lavfi source over a PlainTransport. */
  const publish = (
    room: Room,
    owner: string,
    kind: 'audio' | 'video',
    lavfi: string,
    filter?: string,
    publication?: string,
    extra: Pick<LavfiSourceOptions, 'videoArgs' | 'piped'> = {},
  ) =>
    publishLavfi(room, processes, {
      owner,
      kind,
      lavfi,
      ...(filter ? { filter } : {}),
      ...(publication ? { publication } : {}),
      ...extra,
    });

  /** Consumes a producer into an ffmpeg decoder writing raw frames (video rgb24 64x48, audio s16le mono). */
  async function receive(room: Room, producerId: string, kind: 'audio' | 'video') {
    const transport = await room.router.createPlainTransport({
      listenIp: '127.0.0.1',
      rtcpMux: false,
      comedia: false,
    });
    const port = await freeUdpPortPair();
    await transport.connect({ ip: '127.0.0.1', port, rtcpPort: port + 1 });
    const consumer = await transport.consume({ producerId, rtpCapabilities: room.router.rtpCapabilities });
    const sdpPath = join(dir, `${randomUUID()}.sdp`);
    writeFileSync(
      sdpPath,
      sdpForRtpReceiver({ rtpParameters: consumer.rtpParameters, kind, address: '127.0.0.1', port }),
    );
    const out =
      kind === 'video'
        ? ['-an', '-vf', 'scale=64:48', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1']
        : ['-vn', '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1'];
    const rx = new FfmpegProcess({
      args: ['-protocol_whitelist', 'file,udp,rtp', '-fflags', 'nobuffer', '-i', sdpPath, ...out],
      stdout: 'raw',
    });
    processes.push(rx);
    const frameBytes = 64 * 48 * 3;
    let bytes = 0;
    let pending = Buffer.alloc(0);
    let last: Buffer | undefined;
    let audio: Buffer[] = [];
    rx.on('data', (chunk) => {
      bytes += chunk.length;
      if (kind === 'audio') {
        audio.push(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        last = pending.subarray(0, frameBytes);
        pending = pending.subarray(frameBytes);
      }
    });
    const keyFrames = setInterval(() => void consumer.requestKeyFrame().catch(() => {}), 1000);
    return {
      frames: () => Math.floor(bytes / frameBytes),
      /** Mean colour of a rectangle of the latest frame (fractions of the frame). */
      mean(x0: number, y0: number, x1: number, y1: number): [number, number, number] {
        const acc = [0, 0, 0];
        let n = 0;
        for (let y = Math.round(y0 * 48) + 2; y < Math.round(y1 * 48) - 2; y++)
          for (let x = Math.round(x0 * 64) + 2; x < Math.round(x1 * 64) - 2; x++) {
            for (let c = 0; c < 3; c++) acc[c]! += last![(y * 64 + x) * 3 + c]!;
            n++;
          }
        return acc.map((v) => v / n) as [number, number, number];
      },
      /** The audio received from now on for `ms`. */
      async record(ms: number): Promise<Int16Array> {
        audio = [];
        await new Promise((r) => setTimeout(r, ms));
        const b = Buffer.concat(audio);
        return new Int16Array(b.buffer, b.byteOffset, Math.floor(b.length / 2));
      },
      stderr: () => rx.stderrTail,
      close() {
        clearInterval(keyFrames);
        transport.close();
        void rx.close(300);
      },
    };
  }

  const isColour = ([r, g, b]: [number, number, number], want: 'red' | 'green' | 'blue' | 'yellow') => {
    const hi = (v: number) => v > 90;
    const lo = (v: number) => v < 70;
    if (want === 'red') return hi(r) && lo(g) && lo(b);
    if (want === 'green') return lo(r) && hi(g) && lo(b);
    if (want === 'blue') return lo(r) && lo(g) && hi(b);
    return hi(r) && hi(g) && lo(b);
  };

  it('mixes four coloured sources into a 2×2 view, takes a custom layout live over stream.control, survives an encoder kill, and keeps going when an input leaves', async () => {
    const room = await rooms.open(`svc/${randomUUID()}`);
    const colours = ['red', 'green', 'blue', 'yellow'] as const;
    const pubs: string[] = [];
    for (const c of colours)
      pubs.push((await publish(room, `p-${c}`, 'video', `color=c=${c}:size=320x240:rate=15`)).publication);
    const updates: MixedStreamInfo[] = [];
    mixers.on('mixedupdated', (info) => info.roomId === room.id && updates.push(info));

    const views = smallVideoView();
    const t0 = performance.now();
    await handle()(command(room.id, { type: 'views.configure', views }));
    expect(performance.now() - t0).toBeLessThan(500);
    const view = mixers.view(room.id, 'common')!;
    expect(view.layout.map((e) => e.stream)).toEqual(pubs);
    expect(updates.at(-1)?.streamId).toBe(mixedStreamId('common'));

    // The mixed video joins the room as the view's mixed stream, by its publication id.
    const mixed = await until(
      () => room.streams().find((s) => s.publication === mixedStreamId('common') && s.kind === 'video'),
      (s) => s !== undefined,
      20_000,
    );
    expect(mixed).toMatchObject({ type: 'mixed', source: 'mixed', label: 'common' });
    const rx = await receive(room, mixed!.id, 'video');
    const quadrant = (i: number) =>
      rx.mean((i % 2) / 2, Math.floor(i / 2) / 2, (i % 2) / 2 + 0.5, Math.floor(i / 2) / 2 + 0.5);
    const allShown = () => colours.every((c, i) => isColour(quadrant(i), c));
    await until(rx.frames, (n) => n >= 5, 20_000);
    expect(await until(allShown, (ok) => ok, 20_000), rx.stderr()).toBe(true);
    // Every process of the mixer counts in the pipelines' CPU: the encoder and four decoders.
    expect(pipelines.usage().processes.length).toBe(5);

    // A custom layout over the REST path: yellow on the left half, red on the right half.
    const producerBefore = view.video!.producer!.id;
    await setLayout(room.id, [
      { stream: pubs[3], region: { id: 'left', area: { left: 0, top: 0, width: '1/2', height: 1 } } },
      { stream: pubs[0], region: { id: 'right', area: { left: '1/2', top: 0, width: '1/2', height: 1 } } },
    ]);
    const moved = () => isColour(rx.mean(0, 0, 0.5, 1), 'yellow') && isColour(rx.mean(0.5, 0, 1, 1), 'red');
    expect(await until(moved, (ok) => ok, 10_000)).toBe(true);
    expect(view.video!.producer!.id).toBe(producerBefore);
    expect(updates.at(-1)!.layout.map((e) => e.stream)).toEqual([pubs[3], pubs[0]]);

    // kill -9 the encoder: the registry restarts it; frames resume on the same producer and stream.
    const encoder = view.video!.process!;
    process.kill(encoder.pid!, 'SIGKILL');
    await encoder.exited();
    const afterKill = rx.frames();
    expect(await until(rx.frames, (n) => n >= afterKill + 10, 10_000), rx.stderr()).toBeGreaterThanOrEqual(
      afterKill + 10,
    );
    expect(view.video!.restarts).toBe(1);
    expect(
      room.streams().find((s) => s.publication === mixedStreamId('common') && s.kind === 'video')?.id,
    ).toBe(mixed!.id);

    // An input leaves the view: the others keep advancing, the output too.
    await handle()(
      command(room.id, {
        type: 'stream.control',
        streamId: pubs[0]!,
        ops: [{ op: 'remove', path: '/info/inViews', value: 'common' }],
      }),
    );
    expect(view.inputs).not.toContain(pubs[0]);
    const before = view.video!.inputFrames();
    const framesBefore = rx.frames();
    await until(
      () => view.video!.inputFrames()[pubs[3]!]!,
      (n) => n >= before[pubs[3]!]! + 10,
    );
    expect(view.video!.inputFrames()[pubs[3]!]).toBeGreaterThanOrEqual(before[pubs[3]!]! + 10);
    expect(await until(rx.frames, (n) => n >= framesBefore + 10)).toBeGreaterThanOrEqual(framesBefore + 10);
    // Only shown inputs are decoded: the encoder and yellow's decoder are left (once a resized
    // region's new decoder has its first frame, the old one it was bridged with is closed).
    expect(await processesBecome(2)).toBe(2);
    rx.close();
    room.close();
  }, 60_000);

  it('a resized region keeps moving while its new decoder waits for a key frame (the old decoder bridges it)', async () => {
    const room = await rooms.open(`svc/${randomUUID()}`);
    // One moving source: key frames for its first 3 s (the mixer's decoder starts), then none for 40 s.
    const started = performance.now();
    const { publication } = await publish(
      room,
      'p-moving',
      'video',
      'testsrc2=size=320x240:rate=15',
      undefined,
      'pub-moving',
      { videoArgs: ['-g', '600', '-force_key_frames', 'expr:lt(t,3)'] },
    );
    const views = smallVideoView();
    await handle()(command(room.id, { type: 'views.configure', views }));
    const view = mixers.view(room.id, 'common')!;
    const shown = () => view.video?.inputFrames()[publication] ?? 0;
    expect(await until(shown, (n) => n >= 10, 20_000)).toBeGreaterThanOrEqual(10);
    await new Promise((r) => setTimeout(r, Math.max(0, started + 4000 - performance.now())));

    // Its region shrinks to the left half: a decoder of the new size starts (and waits).
    await setLayout(room.id, [
      { stream: publication, region: { id: 'left', area: { left: 0, top: 0, width: '1/2', height: 1 } } },
    ]);
    const atChange = shown();
    await new Promise((r) => setTimeout(r, 2000));
    // The region kept advancing (the old decoder's frames, resized), and both decoders run.
    expect(shown()).toBeGreaterThanOrEqual(atChange + 10);
    expect(pipelines.usage().processes.length).toBe(3);
    room.close();
    // The room's close takes both decoders and the encoder with it.
    expect(await processesBecome(0)).toBe(0);
  }, 60_000);

  it('a node that holds part of a room mixed elsewhere (mixing: false) knows its views but mixes nothing; it mixes once it is told to', async () => {
    const roomId = `svc/${randomUUID()}`;
    const views = ViewsSchema.parse([{ label: 'far', video: false }]);
    await handle()(command(roomId, { type: 'views.configure', views, mixing: false }));
    const room = await rooms.open(roomId);
    // The records of its publications show them in the views (StreamRecords reads room.views()).
    expect(room.views().map((v) => v.label)).toEqual(['far']);
    await publish(room, 'f1', 'audio', 'sine=f=440:sample_rate=48000');
    // Nothing mixes here until a participant here subscribes to the host's mix (mix-minus only).
    expect(mixers.view(room.id, 'far')?.mixMinusOnly).toBe(true);
    expect(mixers.view(room.id, 'far')?.audio).toBeUndefined();
    expect(pipelines.list(room.id)).toEqual([]);
    // View membership reaches every node (its mix-minus follows it); the layout is the host's.
    expect(
      mixers.control(room.id, 'pub-f1-audio', { op: 'remove', path: '/info/inViews', value: 'far' }),
    ).toBe(true);
    expect(
      mixers.control(room.id, mixedStreamId('far'), { op: 'replace', path: '/info/layout', value: [] }),
    ).toBe(false);
    // It becomes the room's host (the mixing one moved here): what is published is mixed, but
    // the publication unmixed stays out until it is mixed again.
    await handle()(command(roomId, { type: 'views.configure', views }));
    expect(mixers.view(room.id, 'far')?.inputs).toEqual([]);
    expect(mixers.view(room.id, 'far')?.audio?.hasInputOf('f1') ?? false).toBe(false);
    expect(mixers.control(room.id, 'pub-f1-audio', { op: 'add', path: '/info/inViews', value: 'far' })).toBe(
      true,
    );
    expect(mixers.view(room.id, 'far')?.audio?.hasInputOf('f1')).toBe(true);
    // And back: the mixers stop, the views stay.
    await handle()(command(roomId, { type: 'views.configure', views, mixing: false }));
    expect(mixers.view(room.id, 'far')?.mixMinusOnly).toBe(true);
    expect(mixers.view(room.id, 'far')?.audio).toBeUndefined();
    expect(pipelines.list(room.id)).toEqual([]);
    expect(room.views().map((v) => v.label)).toEqual(['far']);
    room.close();
  }, 30_000);

  it('a node that does not mix the room makes its own participants’ mix-minus from the tracks it holds', async () => {
    const roomId = `svc/${randomUUID()}`;
    const views = ViewsSchema.parse([{ label: 'far', video: false }]);
    await handle()(command(roomId, { type: 'views.configure', views, mixing: false }));
    const room = await rooms.open(roomId);
    // b1 publishes here; b2's track is piped in from another node; the host's mix is piped in too.
    await publish(room, 'b1', 'audio', 'sine=f=440:sample_rate=48000');
    await publish(room, 'b2', 'audio', 'sine=f=660:sample_rate=48000', undefined, 'pub-b2-audio', {
      piped: { fromNode: 'node-b2' },
    });
    const hostMix = await publish(
      room,
      'pipeline:mix-far-a',
      'audio',
      'sine=f=2200:sample_rate=48000',
      undefined,
      mixedStreamId('far'),
      {
        piped: {
          fromNode: 'node-host',
          announcement: { type: 'mixed', source: 'mixed', label: 'far' },
        },
      },
    );
    const view = mixers.view(room.id, 'far')!;
    const subscriber = async (id: string, talks: boolean) => {
      const peer = await room.join(
        {
          id,
          user: id,
          role: 'presenter',
          permission: {
            publish: talks && { audio: true, video: false },
            subscribe: { audio: true, video: true },
          },
        },
        `conn-${id}`,
      );
      peer.rtpCapabilities = room.router.rtpCapabilities;
      await room.createTransport(peer, 'recv');
      return room.subscribe(peer, hostMix.producer.id);
    };
    // b1 subscribes to the mix: it gets a mix-minus made here (the view's audio mixer starts now).
    const b1 = await subscriber('b1', true);
    expect(b1.producerId).not.toBe(hostMix.producer.id);
    expect(view.audio?.mixMinusOwner(b1.producerId)).toBe('b1');
    // A listener who may not publish gets the host's mix.
    expect((await subscriber('listener', false)).producerId).toBe(hostMix.producer.id);
    // Nothing is published by this node's mixer: the host's mix is the view's only mixed stream.
    expect(room.streams().filter((s) => s.type === 'mixed')).toHaveLength(1);

    const minus = await receive(room, b1.producerId, 'audio');
    await new Promise((r) => setTimeout(r, 2500));
    const own = await minus.record(1000);
    expect(own.length, minus.stderr()).toBeGreaterThan(24_000);
    const noise = goertzel(own, 1500) + 1;
    // b2 (piped in) is in b1's mix; b1's own tone is (almost) not.
    expect(goertzel(own, 660) / noise).toBeGreaterThan(100);
    expect(goertzel(own, 440)).toBeLessThan(goertzel(own, 660) / 50);
    // Stream controls are the host's: this node ignores them.
    expect(
      mixers.control(room.id, mixedStreamId('far'), { op: 'replace', path: '/info/layout', value: [] }),
    ).toBe(false);
    minus.close();
    room.close();
  }, 60_000);

  it('mixes three tones, gives a participant the mix without their own tone, and follows the loudest speaker', async () => {
    // The views may come before the room opens here: they apply when it does. Publications are
    // then mixed as they are published (OWT's mix on publish).
    const roomId = `svc/${randomUUID()}`;
    const views = ViewsSchema.parse([{ label: 'talk', video: false }]);
    await handle()(command(roomId, { type: 'views.configure', views }));
    expect(mixers.view(roomId, 'talk')).toBeUndefined();
    const room = await rooms.open(roomId);
    const tones = [
      { owner: 'a1', f: 440, volume: 0.5 },
      { owner: 'a2', f: 660, volume: 1 },
      { owner: 'a3', f: 990, volume: 2 },
    ];
    const view = mixers.view(room.id, 'talk')!;
    const sources: { producer: types.Producer; publication: string }[] = [];
    for (const t of tones)
      sources.push(
        await publish(room, t.owner, 'audio', `sine=f=${t.f}:sample_rate=48000`, `volume=${t.volume}`),
      );
    const active: string[] = [];
    mixers.on('activeinput', (e) => e.roomId === room.id && active.push(e.activeInput));

    const mixed = await until(
      () => room.streams().find((s) => s.publication === mixedStreamId('talk') && s.kind === 'audio'),
      (s) => s !== undefined,
      20_000,
    );
    expect(mixed).toMatchObject({ type: 'mixed', label: 'talk' });
    const all = await receive(room, mixed!.id, 'audio');
    // Subscribing through the room: a3, an input, consumes its own mix-minus; a listener the mix.
    const subscriber = async (id: string) => {
      const peer = await room.join(
        {
          id,
          user: id,
          role: 'presenter',
          permission: { publish: false, subscribe: { audio: true, video: true } },
        },
        `conn-${id}`,
      );
      peer.rtpCapabilities = room.router.rtpCapabilities;
      await room.createTransport(peer, 'recv');
      return room.subscribe(peer, mixed!.id);
    };
    const a3 = await subscriber('a3');
    const minusId = await view.mixMinusFor('a3', mixed!.id);
    expect(a3.producerId).toBe(minusId);
    expect((await subscriber('listener')).producerId).toBe(mixed!.id);
    const minus = await receive(room, minusId!, 'audio');
    await new Promise((r) => setTimeout(r, 2500));
    const [mix, own] = await Promise.all([all.record(1000), minus.record(1000)]);
    expect(mix.length, all.stderr()).toBeGreaterThan(24_000);
    expect(own.length, minus.stderr()).toBeGreaterThan(24_000);
    const noise = (s: Int16Array) => goertzel(s, 1500) + 1;
    for (const t of tones)
      expect(goertzel(mix, t.f) / noise(mix), `${t.f} Hz in the mix`).toBeGreaterThan(100);
    expect(goertzel(own, 440) / noise(own)).toBeGreaterThan(100);
    expect(goertzel(own, 660) / noise(own)).toBeGreaterThan(100);
    // a3's own tone is (almost) absent from a3's mix.
    expect(goertzel(own, 990)).toBeLessThan(goertzel(own, 660) / 50);
    // The mix paused over REST (stream.control) pauses a3's own mix too, and plays it again.
    await room.pauseStream(mixedStreamId('talk'), 'audio', true);
    expect(
      await until(
        () => a3.producerPaused,
        (p) => p,
        5000,
      ),
    ).toBe(true);
    await room.pauseStream(mixedStreamId('talk'), 'audio', false);
    expect(
      await until(
        () => a3.producerPaused,
        (p) => !p,
        5000,
      ),
    ).toBe(false);

    // The loudest is active; when it stops, the next loudest takes over within a second.
    expect(
      await until(
        () => view.activeInput,
        (a) => a === sources[2]!.publication,
        5000,
      ),
    ).toBe(sources[2]!.publication);
    await sources[2]!.producer.pause();
    const paused = performance.now();
    expect(
      await until(
        () => view.activeInput,
        (a) => a === sources[1]!.publication,
        5000,
      ),
    ).toBe(sources[1]!.publication);
    expect(performance.now() - paused).toBeLessThan(1000);
    expect(active).toContain(sources[1]!.publication);
    all.close();
    minus.close();
    room.close();
  }, 45_000);

  it.each(['pcmu', 'g722'] as const)(
    'a view whose audio format is %s mixes into that codec, for telephony',
    async (codec) => {
      const room = await rooms.open(`svc/${randomUUID()}`);
      const views = ViewsSchema.parse([{ label: 'phone', video: false, audio: { format: { codec } } }]);
      await handle()(command(room.id, { type: 'views.configure', views }));
      for (const [owner, f] of [
        ['b1', 440],
        ['b2', 990],
      ] as const)
        await publish(room, owner, 'audio', `sine=f=${f}:sample_rate=48000`);
      const mixed = await until(
        () => room.streams().find((s) => s.publication === mixedStreamId('phone') && s.kind === 'audio'),
        (s) => s !== undefined,
        20_000,
      );
      const producer = room.producersOf(mixedStreamId('phone'))[0]!.producer;
      expect(producer.rtpParameters.codecs[0]!.mimeType.toLowerCase()).toBe(`audio/${codec}`);
      const rx = await receive(room, mixed!.id, 'audio');
      await until(
        () => rx.record(500),
        (pcm) => pcm.length > 12_000,
        15_000,
      );
      const pcm = await rx.record(1000);
      expect(pcm.length, rx.stderr()).toBeGreaterThan(24_000);
      const noise = goertzel(pcm, 2500) + 1;
      expect(goertzel(pcm, 440) / noise, 'the 440 Hz tone').toBeGreaterThan(50);
      expect(goertzel(pcm, 990) / noise, 'the 990 Hz tone').toBeGreaterThan(50);
      rx.close();
      room.close();
    },
  );

  it('lecture: the active speaker takes the primary region, and follows when the loudest stops', async () => {
    const room = await rooms.open(`svc/${randomUUID()}`);
    const views = ViewsSchema.parse([
      {
        label: 'class',
        // OWT's default codec (VP8), unlike the other views here.
        video: {
          format: { codec: 'vp8' },
          parameters: { resolution: { width: 240, height: 240 }, framerate: 15 },
          layout: { templates: { base: 'lecture' } },
        },
      },
    ]);
    await handle()(command(room.id, { type: 'views.configure', views }));
    const view = mixers.view(room.id, 'class')!;
    const people = [
      { owner: 'quiet', colour: 'blue', f: 500, volume: 0.5 },
      { owner: 'loud', colour: 'red', f: 800, volume: 2 },
    ] as const;
    const mics: types.Producer[] = [];
    for (const p of people) {
      await publish(room, p.owner, 'video', `color=c=${p.colour}:size=160x120:rate=15`, undefined, p.owner);
      mics.push(
        (
          await publish(
            room,
            p.owner,
            'audio',
            `sine=f=${p.f}:sample_rate=48000`,
            `volume=${p.volume}`,
            p.owner,
          )
        ).producer,
      );
    }
    expect(view.inputs).toEqual(['quiet', 'loud']);
    const mixed = await until(
      () => room.streams().find((s) => s.publication === mixedStreamId('class') && s.kind === 'video'),
      (s) => s !== undefined,
      20_000,
    );
    const rx = await receive(room, mixed!.id, 'video');
    // The primary region is the top left 2/3 of the canvas.
    const primary = () => rx.mean(0, 0, 2 / 3, 2 / 3);
    await until(rx.frames, (n) => n >= 3, 20_000);
    expect(
      await until(
        () => view.layout[0]?.stream,
        (s) => s === 'loud',
        10_000,
      ),
    ).toBe('loud');
    expect(
      await until(
        () => rx.frames() > 0 && isColour(primary(), 'red'),
        (ok) => ok,
        10_000,
      ),
    ).toBe(true);

    await mics[1]!.pause();
    const paused = performance.now();
    expect(
      await until(
        () => view.activeInput,
        (a) => a === 'quiet',
        5000,
      ),
    ).toBe('quiet');
    expect(performance.now() - paused).toBeLessThan(1000);
    expect(view.layout[0]?.stream).toBe('quiet');
    expect(
      await until(
        () => isColour(primary(), 'blue'),
        (ok) => ok,
        10_000,
      ),
    ).toBe(true);
    rx.close();
    room.close();
  }, 45_000);
});
