import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { StreamPatchOp } from '../../shared/protocol/commands.ts';
import { mixedStreamId, type ResolvedView } from '../../shared/protocol/mcu.ts';
import { publicationOf } from '../../shared/protocol/signaling.ts';
import type { Pipelines } from '../pipelines/Pipelines.ts';
import type { Room } from '../sfu/Room.ts';
import type { RoomRegistry } from '../sfu/RoomRegistry.ts';
import { AudioMixer, isMixedAudioCodec } from './AudioMixer.ts';
import { type LayoutEntry, layoutFor, resolveLayout, type Template, templatesFor } from './layout.ts';
import { VideoMixer } from './VideoMixer.ts';

/**
 * What the live state needs of a mixed stream (`info.layout`, `info.activeInput`): emitted as
 * `mixedupdated` whenever either changes. `streamId` is the mixed stream's publication id,
 * `mixedStreamId(label)`, the REST record's id.
 */
export interface MixedStreamInfo {
  roomId: string;
  streamId: string;
  label: string;
  layout: { stream?: string; region: LayoutEntry['region'] }[];
  activeInput?: string | undefined;
}

type Events = {
  mixedupdated: [MixedStreamInfo];
  /** Voice activity picked a new active input of a view (OWT's `activeInput`). */
  activeinput: [{ roomId: string; streamId: string; label: string; activeInput: string }];
};

/**
 * Rooms not open here whose views this node holds: views that arrived before the room did, or a
 * closed room's (it may open again). Bounded: the oldest is forgotten.
 */
const MAX_PENDING_ROOMS = 1000;

/**
 * One mixer per view of a room, on the node that hosts the room's mixing (the one that gets
 * `views.configure`). The room's other nodes get its views with `mixing: false`: they mix no
 * video and publish no mix, ignore the MCU's stream controls, and make the mix-minus of their own
 * participants (ViewMixer.mixMinusOnly: they hold every audio track of the room). Inputs
 * follow OWT: every publication of the room is mixed into every view when published (its video
 * track into the view's video mixer, its audio track into the audio mixer); `/info/inViews`
 * add/remove change that live. A view's mixers start with its first input and stop with the room
 * (they are pipelines of the room). Nothing here waits for ffmpeg.
 */
export class ViewMixers extends EventEmitter<Events> {
  readonly #rooms: RoomRegistry;
  readonly #pipelines: Pipelines;
  readonly #logger: Logger;
  readonly #views = new Map<string, Map<string, ViewMixer>>();
  readonly #pending = new Map<string, ResolvedView[]>();
  /**
   * Rooms this node hosts part of while another node mixes them (`mixing: false`): their views,
   * for the records of the publications here (`inViews`), also when the room opens again. Bounded
   * alike.
   */
  readonly #recordOnly = new Map<string, ResolvedView[]>();
  /**
   * Per open room and view label, the publications unmixed over REST or signaling: they stay out
   * of a view rebuilt (its parameters changed) and out of a mix-minus made on a node that does
   * not host the mixing (every node of the room gets `/info/inViews`).
   */
  readonly #unmixed = new Map<string, Map<string, Set<string>>>();

  constructor(options: { rooms: RoomRegistry; pipelines: Pipelines; logger: Logger }) {
    super();
    this.#rooms = options.rooms;
    this.#pipelines = options.pipelines;
    this.#logger = options.logger;
    // The mixed stream's announcement carries what its REST record shows: the layout on its
    // video track, the active input on its audio track (media-node/liveState writes them).
    this.on('mixedupdated', ({ roomId, streamId, layout, activeInput }) => {
      const room = this.#rooms.get(roomId);
      for (const track of room?.producersOf(streamId) ?? [])
        room!.updateStream(
          track.announcement.id,
          track.announcement.kind === 'video' ? { layout } : { activeInput },
        );
    });
    this.#rooms.on('roomcreated', (room) => {
      const recorded = this.#recordOnly.get(room.id);
      if (recorded) this.#apply(room, recorded, { mixMinusOnly: true });
      const views = this.#pending.get(room.id);
      this.#pending.delete(room.id);
      if (views) this.#apply(room, views);
    });
  }

  /** A view of a room (tests, diagnostics). */
  view(roomId: string, label: string): ViewMixer | undefined {
    return this.#views.get(roomId)?.get(label);
  }

  /**
   * The room's views (OWT's view model, defaults applied): the latest wins. `mixing` false: the
   * room's mixing is on another node (its host); here the room only knows its views, for the
   * records of its publications, and mixes nothing (what it has stops).
   */
  configure(roomId: string, views: readonly ResolvedView[], mixing = true): void {
    const room = this.#rooms.get(roomId);
    if (!mixing) {
      this.#pending.delete(roomId);
      this.#recordOnly.delete(roomId);
      this.#recordOnly.set(roomId, [...views]);
      if (this.#recordOnly.size > MAX_PENDING_ROOMS)
        this.#recordOnly.delete(this.#recordOnly.keys().next().value!);
      if (room && !room.closed) this.#apply(room, views, { mixMinusOnly: true });
      return;
    }
    this.#recordOnly.delete(roomId);
    if (room && !room.closed) {
      this.#apply(room, views);
      return;
    }
    this.#remember(roomId, views);
  }

  #remember(roomId: string, views: readonly ResolvedView[]): void {
    this.#pending.delete(roomId);
    this.#pending.set(roomId, [...views]);
    if (this.#pending.size > MAX_PENDING_ROOMS) this.#pending.delete(this.#pending.keys().next().value!);
  }

  /**
   * The room's views, mixed here; or, `mixMinusOnly`, mixed on another node (the room's host) and
   * only mix-minus made here for this node's participants (ViewMixer.mixMinusOnly).
   */
  #apply(room: Room, views: readonly ResolvedView[], { mixMinusOnly = false } = {}): void {
    // The room knows its views too: its new publications start in them (OWT), as REST shows.
    room.setViews(views);
    let mixers = this.#views.get(room.id);
    if (!mixers) {
      mixers = new Map();
      this.#views.set(room.id, mixers);
      this.#follow(room, mixers);
    }
    const labels = new Set(views.map((v) => v.label));
    for (const [label, mixer] of mixers)
      if (!labels.has(label)) {
        mixer.close();
        mixers.delete(label);
      }
    for (const view of views) {
      const existing = mixers.get(view.label);
      // A changed view, or one this node now mixes (or no longer), is rebuilt (its mixed stream id
      // stays: it is the label's).
      if (
        existing &&
        existing.mixMinusOnly === mixMinusOnly &&
        JSON.stringify(existing.view) === JSON.stringify(view)
      )
        continue;
      existing?.close();
      // A node that only makes mix-minus says nothing about the view: its host does.
      const emit: Emit = mixMinusOnly
        ? () => {}
        : (e, info) => (this.emit as (e: string, i: unknown) => boolean)(e, info);
      const mixer = new ViewMixer(room, view, this.#pipelines, this.#logger, emit, {
        mixMinusOnly,
        excluded: this.#unmixedOf(room.id, view.label),
      });
      mixers.set(view.label, mixer);
      // What is published already is mixed (OWT: every publication is in every view).
      for (const publication of publicationsOf(room)) mixer.mix(publication);
    }
  }

  #unmixedOf(roomId: string, label: string): Set<string> {
    const views = this.#unmixed.get(roomId) ?? new Map<string, Set<string>>();
    this.#unmixed.set(roomId, views);
    const unmixed = views.get(label) ?? new Set<string>();
    views.set(label, unmixed);
    return unmixed;
  }

  #follow(room: Room, mixers: Map<string, ViewMixer>): void {
    room.on('streamadded', (announcement, origin) => {
      if (origin.kind !== 'participant' || announcement.kind === 'data') return;
      for (const mixer of mixers.values()) mixer.mix(publicationOf(announcement), { onPublish: true });
    });
    // A participant on another node of the room: its tracks are piped here, and mixed alike.
    room.on('pipedadded', (announcement) => {
      if (announcement.kind === 'data' || announcement.type === 'mixed') return;
      for (const mixer of mixers.values()) mixer.mix(publicationOf(announcement), { onPublish: true });
    });
    const gone = (id: string) => {
      for (const mixer of mixers.values()) mixer.trackGone(id);
    };
    room.on('streamremoved', gone);
    room.on('pipedremoved', gone);
    // The hook in Room.subscribe: a participant who may publish audio gets the view's mixed audio
    // without their own voice (mix-minus), whether their audio is mixed yet or not.
    room.consumeResolver = async (peerId, producerId) => {
      for (const mixer of mixers.values()) {
        const minus = await mixer.mixMinusFor(peerId, producerId);
        if (minus) return minus;
      }
      return undefined;
    };
    room.on('peerleft', (peer) => {
      for (const mixer of mixers.values()) mixer.audio?.dropMixMinus(peer.info.id);
    });
    room.once('close', () => {
      const views = [...mixers.values()].map((m) => m.view);
      const mixMinusOnly = [...mixers.values()].some((m) => m.mixMinusOnly);
      for (const mixer of mixers.values()) mixer.close();
      mixers.clear();
      this.#unmixed.delete(room.id);
      if (this.#views.get(room.id) !== mixers) return;
      this.#views.delete(room.id);
      // A room mixed elsewhere opens again with its views from #recordOnly.
      if (mixMinusOnly) return;
      // The room may open here again (its participants back after it emptied): its views still hold.
      this.#remember(room.id, views);
    });
  }

  /**
   * A `stream.control` op for the MCU: `/info/inViews` add/remove on a forward stream (on every
   * node of the room: the host's mix, the others' mix-minus), `/info/layout` and
   * `/info/layout/{i}/stream` on a mixed one (the host only). Returns whether this node acted
   * (false: not an MCU op, or not one for this node). Throws a ValidationError for a layout it
   * cannot apply.
   */
  control(roomId: string, streamId: string, op: StreamPatchOp): boolean {
    const mixers = this.#views.get(roomId);
    if (!mixers) return false;
    if (op.path === '/info/inViews') {
      const mixer = mixers.get(op.value);
      if (!mixer) return false;
      if (op.op === 'add') mixer.mix(streamId, { explicit: true });
      else mixer.unmix(streamId);
      return true;
    }
    if ([...mixers.values()].some((m) => m.mixMinusOnly)) return false;
    const mixer = [...mixers.values()].find((m) => m.streamId === streamId);
    if (!mixer) return false;
    if (op.path === '/info/layout') {
      mixer.replaceLayout(op.value);
      return true;
    }
    const region = /^\/info\/layout\/(\d+)\/stream$/.exec(op.path);
    if (region && op.op === 'replace' && typeof op.value === 'string') {
      mixer.replaceRegionStream(Number(region[1]), op.value);
      return true;
    }
    return false;
  }

  close(): void {
    for (const mixers of this.#views.values()) for (const m of mixers.values()) m.close();
    this.#views.clear();
    this.#pending.clear();
    this.#recordOnly.clear();
  }
}

/** The room's publications that may be mixed: participants' (here or piped in), not pipelines' outputs. */
function publicationsOf(room: Room): string[] {
  const seen = new Set<string>();
  for (const a of room.streams()) {
    if (a.kind === 'data' || a.type === 'mixed') continue;
    const stream = room.stream(a.id);
    if (!stream || stream.origin.kind === 'pipeline') continue;
    seen.add(publicationOf(a));
  }
  return [...seen];
}

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

type Emit = (event: keyof Events, info: Events[keyof Events][0]) => void;

/** One view of a room: its inputs, its layout, and its video and audio mixers (pipelines). */
export class ViewMixer {
  readonly view: ResolvedView;
  readonly streamId: string;
  readonly #room: Room;
  readonly #pipelines: Pipelines;
  readonly #logger: Logger;
  readonly #emit: Emit;
  readonly #templates: Template[];
  /** Publications mixed, in mixing order. */
  readonly #inputs: string[] = [];
  /** Publications unmixed over REST: not mixed again when they gain a track (ViewMixers' set, shared). */
  readonly #excluded: Set<string>;
  /** Which publication each mixed track belongs to (to notice a track going). */
  readonly #tracks = new Map<string, { publication: string; kind: 'audio' | 'video' }>();
  #explicit: LayoutEntry[] | undefined;
  #layout: LayoutEntry[] = [];
  /** The inputs when the layout was last made (an explicit layout places only newer ones). */
  #placed = new Set<string>();
  #activeInput: string | undefined;
  #video: VideoMixer | undefined;
  #audio: AudioMixer | undefined;
  #closed = false;
  /**
   * On a node of the room that is not its mixing host: no video, no published mix, no events;
   * an audio mixer (started by the first listener) for the mix-minus of this node's participants.
   */
  readonly mixMinusOnly: boolean;

  constructor(
    room: Room,
    view: ResolvedView,
    pipelines: Pipelines,
    logger: Logger,
    emit: Emit,
    options: { mixMinusOnly?: boolean; excluded?: Set<string> } = {},
  ) {
    this.mixMinusOnly = options.mixMinusOnly ?? false;
    this.#excluded = options.excluded ?? new Set();
    this.view = view;
    this.streamId = mixedStreamId(view.label);
    this.#room = room;
    this.#pipelines = pipelines;
    this.#logger = logger.child({ roomId: room.id, view: view.label });
    this.#emit = emit;
    this.#templates =
      view.video === false
        ? []
        : templatesFor(
            view.video.layout.templates.base,
            view.video.maxInput,
            view.video.layout.templates.custom,
          );
  }

  get video(): VideoMixer | undefined {
    return this.#video;
  }

  get audio(): AudioMixer | undefined {
    return this.#audio;
  }

  get layout(): readonly LayoutEntry[] {
    return this.#layout;
  }

  get activeInput(): string | undefined {
    return this.#activeInput;
  }

  get inputs(): readonly string[] {
    return this.#inputs;
  }

  /** Mixes a publication's tracks (what it has now; a track published later joins on its own publish). */
  mix(publication: string, how: { explicit?: boolean; onPublish?: boolean } = {}): void {
    if (this.#closed) return;
    if (how.explicit) this.#excluded.delete(publication);
    else if (this.#excluded.has(publication)) return;
    const tracks = this.#room
      .producersOf(publication)
      .filter((t) => t.origin.kind !== 'pipeline' && t.announcement.type !== 'mixed');
    if (tracks.length === 0) return;
    let changed = false;
    for (const track of tracks) {
      const kind = track.announcement.kind;
      if (kind === 'data' || this.#tracks.has(track.announcement.id)) continue;
      // Mix-minus only: audio, once a listener has started the audio mixer (it mixes the room's
      // publications then).
      if (this.mixMinusOnly && (kind === 'video' || !this.#audio)) continue;
      const mixer = kind === 'video' ? this.#videoMixer() : this.#audioMixer();
      if (!mixer) continue;
      this.#tracks.set(track.announcement.id, { publication, kind });
      mixer.addInput(publication, track.announcement.id, track.announcement.owner);
      if (kind === 'video' && !this.#inputs.includes(publication)) {
        this.#inputs.push(publication);
        changed = true;
      }
    }
    if (changed) this.#relayout();
  }

  unmix(publication: string): void {
    this.#excluded.add(publication);
    this.#drop(publication);
  }

  /** A track of the room went: it leaves the mix; the others keep going. */
  trackGone(trackId: string): void {
    const track = this.#tracks.get(trackId);
    if (!track) return;
    this.#tracks.delete(trackId);
    if (track.kind === 'audio') this.#audio?.removeInput(track.publication);
    else this.#dropVideo(track.publication);
  }

  #drop(publication: string): void {
    for (const [id, t] of this.#tracks) if (t.publication === publication) this.#tracks.delete(id);
    this.#audio?.removeInput(publication);
    this.#dropVideo(publication);
  }

  #dropVideo(publication: string): void {
    this.#video?.removeInput(publication);
    const i = this.#inputs.indexOf(publication);
    if (i < 0) return;
    this.#inputs.splice(i, 1);
    if (this.#activeInput === publication) this.#activeInput = undefined;
    this.#relayout();
  }

  /** REST `/info/layout`: the whole layout (regions by id keep their current area). */
  replaceLayout(requested: Parameters<typeof resolveLayout>[0]): void {
    let next: LayoutEntry[];
    try {
      next = resolveLayout(requested, [...this.#layout, ...(this.#templateLayout() ?? [])]);
    } catch (error) {
      throw new ValidationError(`layout of ${this.streamId}: ${(error as Error).message}`, [
        { path: 'value', message: 'a region without an area must be one of the layout' },
      ]);
    }
    this.#explicit = next.map((e) =>
      e.stream !== undefined && !this.#inputs.includes(e.stream) ? { region: e.region } : e,
    );
    this.#relayout();
  }

  /** REST `/info/layout/{i}/stream`: one region shows another input (the one it showed takes that input's place). */
  replaceRegionStream(index: number, stream: string): void {
    const layout = this.#layout.map((e) => ({ ...e }));
    const target = layout[index];
    if (!target) throw new Error(`no region ${index} in the layout of ${this.streamId}`);
    if (!this.#inputs.includes(stream))
      throw new Error(`stream ${stream} is not mixed into ${this.streamId}`);
    const previous = layout.find((e) => e.stream === stream);
    if (previous) {
      if (target.stream !== undefined) previous.stream = target.stream;
      else delete previous.stream;
    }
    target.stream = stream;
    this.#explicit = layout;
    this.#relayout();
  }

  #templateLayout(): LayoutEntry[] | undefined {
    if (this.view.video === false) return undefined;
    const primary =
      this.view.video.keepActiveInputPrimary || this.view.video.layout.templates.base === 'lecture';
    return layoutFor(this.#templates, this.#inputs, {
      maxInput: this.view.video.maxInput,
      primaryInput: primary ? this.#activeInput : undefined,
    });
  }

  #relayout(): void {
    let layout = this.#explicit;
    if (layout) {
      // An explicit layout (REST) holds: a gone input leaves its region empty, an input new since
      // takes an empty region if there is one (and is not shown otherwise).
      const placed = new Set(this.#placed);
      layout = layout.map((e) =>
        e.stream !== undefined && !this.#inputs.includes(e.stream) ? { region: e.region } : { ...e },
      );
      for (const input of this.#inputs) {
        if (placed.has(input) || layout.some((e) => e.stream === input)) continue;
        const free = layout.find((e) => e.stream === undefined);
        if (free) free.stream = input;
      }
      this.#explicit = layout;
    }
    this.#layout = layout ?? this.#templateLayout() ?? [];
    this.#placed = new Set(this.#inputs);
    this.#video?.setLayout(this.#layout);
    this.#emit('mixedupdated', this.info());
  }

  /** The mixed stream's live info (`info.layout`, `info.activeInput`). */
  info(): MixedStreamInfo {
    return {
      roomId: this.#room.id,
      streamId: this.streamId,
      label: this.view.label,
      layout: this.#layout.map((e) => ({
        ...(e.stream !== undefined ? { stream: e.stream } : {}),
        region: e.region,
      })),
      ...(this.#activeInput !== undefined ? { activeInput: this.#activeInput } : {}),
    };
  }

  #onActiveInput(publication: string): void {
    if (this.#closed || this.#activeInput === publication) return;
    this.#activeInput = publication;
    this.#emit('activeinput', {
      roomId: this.#room.id,
      streamId: this.streamId,
      label: this.view.label,
      activeInput: publication,
    });
    const video = this.view.video;
    if (
      video &&
      !this.#explicit &&
      (video.keepActiveInputPrimary || video.layout.templates.base === 'lecture')
    )
      this.#relayout();
    else this.#emit('mixedupdated', this.info());
  }

  #pipelineId(kind: 'v' | 'a'): string {
    return `mix-${shortHash(`${this.#room.id}\n${this.view.label}`)}-${kind}`;
  }

  #videoMixer(): VideoMixer | undefined {
    if (this.view.video === false) return undefined;
    if (this.#video && !this.#video.closed) return this.#video;
    try {
      const mixer = new VideoMixer(
        this.#pipelineId('v'),
        this.#pipelines.context(this.#room),
        this.view.video,
        this.view.label,
      );
      this.#pipelines.run(mixer);
      this.#video = mixer;
      mixer.setLayout(this.#layout);
      mixer.once('close', () => this.#forget(mixer));
      // Published on its first frame: the live state gets the layout again once the record exists.
      mixer.once('started', () => this.#emit('mixedupdated', this.info()));
      return mixer;
    } catch (error) {
      this.#logger.warn('the view’s video mixer could not start', { error: String(error) });
      return undefined;
    }
  }

  #audioMixer(): AudioMixer | undefined {
    if (this.view.audio === false) return undefined;
    if (this.#audio && !this.#audio.closed) return this.#audio;
    try {
      const mixer = new AudioMixer(this.#pipelineId('a'), this.#pipelines.context(this.#room), {
        label: this.view.label,
        vad: this.view.audio.vad,
        // The REST API refuses views in other formats (functions/services/unimplemented.ts).
        codec: isMixedAudioCodec(this.view.audio.format.codec) ? this.view.audio.format.codec : 'opus',
        onActiveInput: (publication) => this.#onActiveInput(publication),
        mixMinusOnly: this.mixMinusOnly,
      });
      this.#pipelines.run(mixer);
      this.#audio = mixer;
      mixer.once('close', () => this.#forget(mixer));
      mixer.once('started', () => this.#emit('mixedupdated', this.info()));
      return mixer;
    } catch (error) {
      this.#logger.warn('the view’s audio mixer could not start', { error: String(error) });
      return undefined;
    }
  }

  /** A mixer failed for good (or stopped): its tracks are forgotten, the next publish starts a new one. */
  #forget(mixer: VideoMixer | AudioMixer): void {
    const kind = mixer === this.#video ? 'video' : mixer === this.#audio ? 'audio' : undefined;
    if (!kind) return;
    if (kind === 'video') this.#video = undefined;
    else this.#audio = undefined;
    for (const [id, t] of this.#tracks) if (t.kind === kind) this.#tracks.delete(id);
  }

  /**
   * For Room.subscribe: the mix-minus producer when `peerId` subscribes to this view's mixed
   * audio and may publish audio or has an input in it (a listener gets the mix itself).
   */
  async mixMinusFor(peerId: string, producerId: string): Promise<string | undefined> {
    if (this.#closed || this.view.audio === false) return undefined;
    if (this.mixMinusOnly) {
      // The host's mixed audio, piped here: the mix-minus is made here, from the same inputs.
      const announcement = this.#room.stream(producerId)?.announcement;
      if (announcement?.type !== 'mixed' || announcement.kind !== 'audio') return undefined;
      if (announcement.publication !== this.streamId) return undefined;
      if (!this.#audio) {
        if (!this.#audioMixer()) return undefined;
        for (const publication of publicationsOf(this.#room)) this.mix(publication);
      }
    } else if (this.#audio?.producer?.id !== producerId) return undefined;
    const audio = this.#audio;
    if (!audio || audio.closed) return undefined;
    const mayTalk = this.#room.peer(peerId)?.mayPublish('audio') || audio.hasInputOf(peerId);
    return mayTalk ? audio.mixMinusFor(peerId) : undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#video?.close('stopped');
    this.#audio?.close('stopped');
  }
}
