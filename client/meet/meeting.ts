// In the room: the SDK's events shown on the stage, the participant list and the chat; the
// controls' actions sent back through the SDK.
import type { StreamAnnouncement } from '../../shared/protocol/signaling.ts';
import type { ConnectionState, Participant, RemoteTrack, TesseraClient } from '../TesseraClient.ts';
import { type PathSample, qualityOf, sampleOf } from './quality.ts';
import type { Layout, Stage } from './stage.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** How often connection quality is sampled (ms). */
const QUALITY_EVERY_MS = 2000;

export interface MeetingUi {
  stage: Stage;
  /** A banner over the page: `undefined` hides it. */
  banner(text: string | undefined, kind?: 'warn' | 'ok' | 'error'): void;
  status(text: string): void;
}

/** One of our published tracks. */
interface Local {
  streamId: string;
  track: MediaStreamTrack;
}

export class Meeting {
  readonly #client: TesseraClient;
  readonly #ui: MeetingUi;
  readonly #room: string;
  #camera: Local | undefined;
  /** The devices chosen (in the pre-join screen, then the meeting's device lists). */
  readonly #deviceIds: { audio?: string; video?: string } = {};
  #mic: Local | undefined;
  #screen: { publicationId: string; track: MediaStreamTrack } | undefined;
  /** The mixed streams we receive (the mixed view). */
  #mixed: string[] = [];
  #quality: ReturnType<typeof setInterval> | undefined;
  readonly #samples = new Map<string, PathSample>();
  readonly #offs: (() => void)[] = [];
  #ended = false;
  /** Leaving by choice: the end is no news to show. */
  #leaving = false;
  /** Called once the meeting is over (left, or dropped for good). */
  onEnd: (reason?: string) => void = () => {};

  constructor(client: TesseraClient, room: string, ui: MeetingUi) {
    this.#client = client;
    this.#room = room;
    this.#ui = ui;
  }

  /** Publishes the pre-join media and shows the room. */
  async start(media: MediaStream | undefined): Promise<void> {
    const c = this.#client;
    const self = this.#ui.stage.tile('self', `${c.participant.user} (you)`);
    if (media) {
      for (const track of media.getTracks()) this.#ui.stage.attach('self', track);
      const id = await c.publish(media, { simulcast: true });
      const tracks = c.localPublications.find((p) => p.id === id)?.tracks ?? [];
      const local = (kind: 'audio' | 'video') => {
        const streamId = tracks.find((t) => t.kind === kind)?.streamId;
        const track = media.getTracks().find((t) => t.kind === kind);
        return streamId && track ? { streamId, track } : undefined;
      };
      this.#camera = local('video');
      this.#mic = local('audio');
      for (const t of media.getTracks())
        this.#deviceIds[t.kind as 'audio' | 'video'] = t.getSettings().deviceId;
    }
    self.figure.classList.toggle('video-off', !this.#camera);
    this.#ui.stage.setMuted('self', !this.#mic);
    this.#listen();
    this.#renderPeople();
    this.#renderControls();
    void this.#listDevices();
    this.#quality = setInterval(() => void this.#sampleQuality(), QUALITY_EVERY_MS);
    this.#ui.status(`in room ${this.#room}`);
  }

  #listen(): void {
    const c = this.#client;
    this.#offs.push(
      c.on('track', (remote) => this.#onTrack(remote)),
      c.on('participantjoined', () => this.#renderPeople()),
      c.on('participantleft', (p) => {
        this.#ui.stage.remove(p.id);
        this.#renderPeople();
      }),
      c.on('streamadded', () => this.#renderPeople()),
      c.on('streamupdated', () => this.#renderPeople()),
      c.on('streamremoved', (s) => this.#onStreamRemoved(s)),
      c.on('activespeaker', ({ participantId }) =>
        this.#ui.stage.setSpeaking(participantId === c.participant.id ? 'self' : participantId),
      ),
      c.on('text', ({ from, message }) => this.#addMessage(this.#nameOf(from), message)),
      c.on('connectionstatechange', ({ state, reason }) => this.#onState(state, reason)),
      c.on('closed', () => this.#end()),
    );
  }

  #onTrack({ streamId, publicationId, owner, track }: RemoteTrack): void {
    const stream = this.#client.streams.get(streamId);
    if (stream?.type === 'mixed') {
      this.#ui.stage.attachMixed(track);
      return;
    }
    if (stream?.source === 'screen-cast' || stream?.source === 'screen-audio') {
      this.#ui.stage.tile(`screen-${publicationId}`, `${this.#nameOf(owner)}'s screen`, 'screen');
      this.#ui.stage.attach(`screen-${publicationId}`, track);
      return;
    }
    this.#ui.stage.tile(owner, this.#nameOf(owner));
    this.#ui.stage.attach(owner, track);
    this.#renderPeople();
  }

  #onStreamRemoved(s: StreamAnnouncement): void {
    const key = `screen-${s.publication ?? s.id}`;
    const rest = [...this.#client.streams.values()].some(
      (o) => (o.publication ?? o.id) === (s.publication ?? s.id),
    );
    if (this.#ui.stage.has(key) && !rest) this.#ui.stage.remove(key);
    if (s.type === 'mixed' && this.#ui.stage.layout === 'mixed')
      this.#ui.banner('The mixed view ended.', 'warn');
    this.#renderPeople();
  }

  #nameOf(id: string): string {
    return (
      this.#client.participants.get(id)?.user ?? (id === this.#client.participant.id ? 'you' : 'someone')
    );
  }

  /** Each remote participant's microphone and camera as published now. */
  #mediaOf(id: string): { mic?: StreamAnnouncement; camera?: StreamAnnouncement } {
    const own = [...this.#client.streams.values()].filter((s) => s.owner === id && s.type !== 'mixed');
    return {
      mic: own.find((s) => s.kind === 'audio' && s.source !== 'screen-audio'),
      camera: own.find((s) => s.kind === 'video' && s.source !== 'screen-cast'),
    };
  }

  /** The participant list and every tile's mute and camera-off marks, from the SDK's state. */
  #renderPeople(): void {
    const c = this.#client;
    const rows: HTMLLIElement[] = [];
    const row = (p: Participant, self: boolean, muted: boolean) => {
      const li = document.createElement('li');
      li.dataset.id = p.id;
      li.append(self ? `${p.user} (you)` : p.user);
      if (muted) {
        const mark = document.createElement('span');
        mark.className = 'muted-indicator';
        mark.textContent = 'muted';
        mark.setAttribute('aria-label', `${p.user} is muted`);
        li.append(' ', mark);
      }
      rows.push(li);
    };
    row(c.participant, true, !this.#mic || c.isMuted(this.#mic.streamId));
    for (const p of c.participants.values()) {
      const { mic, camera } = this.#mediaOf(p.id);
      const muted = !mic || mic.paused;
      row(p, false, muted);
      // Everyone has a tile, with or without video.
      this.#ui.stage.tile(p.id, p.user);
      this.#ui.stage.setMuted(p.id, muted);
      this.#ui.stage.setVideoOff(p.id, !camera || camera.paused);
    }
    $('participants').replaceChildren(...rows);
  }

  #renderControls(): void {
    const c = this.#client;
    const mic = $<HTMLButtonElement>('micButton');
    const muted = !this.#mic || c.isMuted(this.#mic.streamId);
    mic.textContent = muted ? 'Unmute' : 'Mute';
    mic.setAttribute('aria-pressed', String(muted));
    const camera = $<HTMLButtonElement>('cameraButton');
    const off = !this.#camera || c.isMuted(this.#camera.streamId);
    camera.textContent = off ? 'Camera on' : 'Camera off';
    camera.setAttribute('aria-pressed', String(off));
    const share = $<HTMLButtonElement>('shareButton');
    share.textContent = this.#screen ? 'Stop sharing' : 'Share screen';
    share.setAttribute('aria-pressed', String(!!this.#screen));
    this.#ui.stage.setMuted('self', muted);
    this.#ui.stage.setVideoOff('self', off);
  }

  /** A new camera or microphone track from the chosen device. */
  async #capture(kind: 'audio' | 'video'): Promise<MediaStreamTrack> {
    const deviceId = this.#deviceIds[kind];
    const constraints: MediaTrackConstraints = {
      ...(kind === 'video' ? { width: 640, height: 480 } : {}),
      ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    };
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    return stream.getTracks()[0]!;
  }

  /** Unmute, or the first microphone of a meeting joined without one (published then). */
  async toggleMic(): Promise<void> {
    if (!this.#mic) {
      const track = await this.#capture('audio');
      this.#mic = { streamId: await this.#client.publish(track, { source: 'mic' }), track };
    } else await this.#client.setMuted(this.#mic.streamId, !this.#client.isMuted(this.#mic.streamId));
    this.#renderControls();
    this.#renderPeople();
  }

  /** Camera off lets the camera go (its light goes out); on takes it again, same stream. */
  async toggleCamera(): Promise<void> {
    const camera = this.#camera;
    if (!camera) {
      const track = await this.#capture('video');
      this.#camera = {
        streamId: await this.#client.publish(track, { source: 'camera', simulcast: true }),
        track,
      };
      this.#ui.stage.attach('self', track);
    } else if (!this.#client.isMuted(camera.streamId)) {
      camera.track.stop();
      await this.#client.setMuted(camera.streamId, true);
    } else {
      const track = await this.#capture('video');
      await this.#client.replaceTrack(camera.streamId, track);
      camera.track = track;
      this.#ui.stage.attach('self', track);
      await this.#client.setMuted(camera.streamId, false);
    }
    this.#renderControls();
  }

  /** Another camera or microphone, in place of the one sent (same stream: no renegotiation). */
  async switchDevice(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    this.#deviceIds[kind] = deviceId;
    const local = kind === 'audio' ? this.#mic : this.#camera;
    // A camera that is off is taken from the new device when it is turned on.
    if (!local || (kind === 'video' && this.#client.isMuted(local.streamId))) return;
    const track = await this.#capture(kind);
    await this.#client.replaceTrack(local.streamId, track);
    local.track.stop();
    local.track = track;
    this.#ui.stage.attach('self', track);
  }

  /** The device lists of the meeting's settings, the ones in use selected. */
  async #listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [id, kind, deviceKind] of [
      ['roomCamera', 'video', 'videoinput'],
      ['roomMic', 'audio', 'audioinput'],
    ] as const) {
      const options = devices
        .filter((d) => d.kind === deviceKind && d.deviceId)
        .map(
          (d, i) =>
            new Option(d.label || `${kind === 'video' ? 'Camera' : 'Microphone'} ${i + 1}`, d.deviceId),
        );
      const select = $<HTMLSelectElement>(id);
      select.replaceChildren(...options);
      const current = this.#deviceIds[kind];
      if (current && options.some((o) => o.value === current)) select.value = current;
    }
  }

  async toggleShare(): Promise<void> {
    if (this.#screen) return this.#stopShare();
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = stream.getVideoTracks()[0]!;
    // The browser's own "stop sharing" ends the track.
    track.addEventListener('ended', () => void this.#stopShare().catch(() => {}));
    const publicationId = await this.#client.publish(track, { source: 'screen-cast' });
    this.#screen = { publicationId, track };
    this.#ui.stage.tile('self-screen', 'your screen', 'screen');
    this.#ui.stage.attach('self-screen', track);
    this.#renderControls();
  }

  async #stopShare(): Promise<void> {
    const screen = this.#screen;
    if (!screen) return;
    this.#screen = undefined;
    screen.track.stop();
    this.#ui.stage.remove('self-screen');
    this.#renderControls();
    if (!this.#ended) await this.#client.unpublish(screen.publicationId);
  }

  /** Grid, speaker, or the room's mixed stream (the MCU's view) in place of the tiles. */
  async setLayout(layout: Layout): Promise<void> {
    const c = this.#client;
    const wasMixed = this.#ui.stage.layout === 'mixed';
    this.#ui.stage.setLayout(layout);
    if (layout === 'mixed' && !wasMixed) {
      const mixed = [...c.streams.values()].filter((s) => s.type === 'mixed' && s.kind !== 'data');
      // The first view (OWT's 'common' unless the room says otherwise).
      const label = mixed.find((s) => s.label === 'common')?.label ?? mixed[0]?.label;
      const view = mixed.filter((s) => s.label === label);
      if (view.length === 0) {
        this.#ui.banner('This room has no mixed view.', 'warn');
        this.#ui.stage.setLayout('grid');
        $<HTMLSelectElement>('layout').value = 'grid';
        return;
      }
      this.#mixed = view.map((s) => s.id);
      await Promise.all(this.#mixed.map((id) => c.subscribe(id)));
    } else if (layout !== 'mixed' && wasMixed) {
      const ids = this.#mixed;
      this.#mixed = [];
      await Promise.all(ids.map((id) => c.unsubscribe(id).catch(() => {})));
    }
  }

  async sendText(text: string): Promise<void> {
    await this.#client.sendText(text);
    this.#addMessage('you', text);
  }

  #addMessage(from: string, text: string): void {
    const li = document.createElement('li');
    const who = document.createElement('b');
    who.textContent = `${from}:`;
    li.append(who, ' ', text);
    $('messages').append(li);
    $('messages').scrollTop = $('messages').scrollHeight;
  }

  #onState(state: ConnectionState, reason?: string): void {
    const say: Partial<Record<ConnectionState, [string, 'warn' | 'ok' | 'error']>> = {
      reconnecting: ['Connection lost: reconnecting… (media keeps flowing while it can)', 'warn'],
      resumed: ['Reconnected.', 'ok'],
      rejoined: ['Rejoined the room on a new connection.', 'ok'],
      disconnected: [`Disconnected${reason ? `: ${reason}` : ''}.`, 'error'],
    };
    const shown = state === 'disconnected' && this.#leaving ? undefined : say[state];
    if (shown) this.#ui.banner(...shown);
    if (state === 'resumed' || state === 'rejoined')
      setTimeout(() => this.#client.connectionState === state && this.#ui.banner(undefined), 4000);
    if (state !== 'disconnected') this.#ui.status(state === 'connected' ? `in room ${this.#room}` : state);
  }

  /** Loss and round-trip time of each received participant, and of the whole receiving path. */
  async #sampleQuality(): Promise<void> {
    const c = this.#client;
    for (const p of c.participants.values()) {
      const { mic, camera } = this.#mediaOf(p.id);
      const streamId = camera && !camera.paused ? camera.id : mic?.id;
      const report = streamId ? await c.stats(streamId).catch(() => undefined) : undefined;
      if (!report || this.#ended) continue;
      const sample = sampleOf(report);
      this.#ui.stage.setQuality(p.id, qualityOf(this.#samples.get(p.id), sample));
      this.#samples.set(p.id, sample);
    }
    const { recv } = await c.transportStats();
    if (!recv || this.#ended) return;
    const sample = sampleOf(recv);
    const level = qualityOf(this.#samples.get('self'), sample);
    this.#samples.set('self', sample);
    const badge = $('quality');
    badge.hidden = false;
    badge.dataset.level = level;
    badge.textContent = `connection ${level}`;
  }

  /** Leaves the room; the page goes back to the pre-join screen. */
  async leave(): Promise<void> {
    this.#leaving = true;
    this.#ui.banner(undefined);
    await this.#client.leave();
    this.#end();
  }

  /** Everything of this meeting let go: tracks, tiles, lists, timers. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#quality);
    for (const off of this.#offs) off();
    for (const local of [this.#camera, this.#mic, this.#screen]) local?.track.stop();
    this.#ui.stage.clear();
    $('participants').replaceChildren();
    $('messages').replaceChildren();
    $('quality').hidden = true;
    const reason = this.#client.connectionState === 'disconnected' ? 'the connection ended' : undefined;
    this.onEnd(reason);
  }
}
