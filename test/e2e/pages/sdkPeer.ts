// A test participant: the real client SDK in a page, driven by the e2e tests through window.peer.
import { type AutoSubscribe, type RemoteTrack, TesseraClient } from '../../../client/TesseraClient.ts';
import type {
  AudioTranscodeRequest,
  VideoTranscodeParameters,
  VideoTranscodeRequest,
} from '../../../shared/protocol/signaling.ts';
import type { SyntheticOptions } from './instruments.ts';
import { type PageInstruments, pageInstruments } from './instrumentsPeer.ts';

interface Remote extends RemoteTrack {
  element: HTMLMediaElement;
}

// Every WebSocket the SDK opens, so a test can cut the current one from the client's side.
const sockets: WebSocket[] = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
  }
};

const remotes: Remote[] = [];
/** Connection states with the time they were entered (ms since the page's time origin). */
const states: { state: string; at: number; reason?: string }[] = [];
const texts: string[] = [];
const events: string[] = [];
/** Participant ids announced as the active speaker, in order. */
const speakers: string[] = [];
let client: TesseraClient | undefined;
let media: MediaStream | undefined;
const published: Record<string, string> = {};

const peer = {
  async join(
    url: string,
    token: string,
    options: {
      codec?: string;
      simulcast?: boolean;
      publish?: boolean;
      signalingUrl?: string;
      autoSubscribe?: AutoSubscribe;
      iceTransportPolicy?: 'all' | 'relay';
      /** Camera and microphone as one publication (one OWT stream); `published.stream` names it. */
      oneStream?: boolean;
      /** Publish synthetic media (instruments.ts) as one stream instead of the fake camera. */
      synthetic?: SyntheticOptions;
    } = {},
  ) {
    client = await TesseraClient.join({
      url,
      token,
      ...(options.signalingUrl ? { signalingUrl: options.signalingUrl } : {}),
      ...(options.autoSubscribe !== undefined ? { autoSubscribe: options.autoSubscribe } : {}),
      ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
    });
    client.on('track', (t) => {
      const element = document.createElement(t.kind === 'video' ? 'video' : 'audio');
      element.srcObject = new MediaStream([t.track]);
      element.autoplay = true;
      document.body.append(element);
      void element.play().catch(() => {});
      remotes.push({ ...t, element });
    });
    client.on('text', (t) => texts.push(`${t.from}:${t.message}`));
    client.on('participantjoined', (p) => events.push(`join:${p.user}`));
    client.on('participantleft', (p) => events.push(`leave:${p.user}`));
    client.on('streamremoved', (s) => events.push(`removed:${s.id}`));
    client.on('streamupdated', (s) => events.push(`updated:${s.id}:${s.paused ? 'paused' : 'live'}`));
    client.on('dropped', (d) => events.push(`dropped:${d.reason}`));
    client.on('rejoined', () => events.push('rejoined'));
    client.on('connectionstatechange', ({ state, reason }) =>
      states.push({ state, at: performance.now(), ...(reason ? { reason } : {}) }),
    );
    client.on('activespeaker', (a) => speakers.push(a.participantId));
    if (options.publish !== false && options.synthetic) {
      media = window.instruments.synthetic(options.synthetic).stream;
      published.stream = await client.publish(media, options.codec ? { codec: options.codec } : {});
      for (const t of client.localPublications[0]!.tracks) published[t.kind] = t.streamId;
    } else if (options.publish !== false && options.oneStream) {
      media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
      published.stream = await client.publish(media, {
        ...(options.codec ? { codec: options.codec } : {}),
        simulcast: options.simulcast ?? false,
      });
      for (const t of client.localPublications[0]!.tracks) published[t.kind] = t.streamId;
    } else if (options.publish !== false) {
      media = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
      published.audio = await client.publish(media.getAudioTracks()[0]!);
      published.video = await client.publish(media.getVideoTracks()[0]!, {
        ...(options.codec ? { codec: options.codec } : {}),
        simulcast: options.simulcast ?? false,
      });
    }
    return {
      id: client.participant.id,
      published: published as { audio: string; video: string; stream?: string },
    };
  },

  /** What this participant receives, per remote stream, from WebRTC's own statistics. */
  async received() {
    const out = [];
    for (const r of remotes) {
      if (r.track.readyState === 'ended') continue;
      const stats = await client!.stats(r.streamId);
      if (!stats) continue;
      const all = [...stats.values()];
      const inbound = all.find((s) => s.type === 'inbound-rtp');
      const codec = inbound ? all.find((s) => s.id === inbound.codecId) : undefined;
      out.push({
        owner: r.owner,
        streamId: r.streamId,
        kind: r.kind,
        framesDecoded: inbound?.framesDecoded ?? 0,
        width: inbound?.frameWidth ?? 0,
        height: inbound?.frameHeight ?? 0,
        audioEnergy: inbound?.totalAudioEnergy ?? 0,
        codec: codec?.mimeType ?? '',
      });
    }
    return out;
  },

  /**
   * A received video's frame-timing statistics from WebRTC itself (not from page callbacks a busy
   * page delays): Chrome counts a freeze when the gap between two rendered frames exceeds
   * max(3 × the mean, mean + 150 ms), about 190 ms at 24 fps.
   */
  async frameTiming(publicationId: string) {
    const track = client!.remoteTracks.find((t) => t.publicationId === publicationId && t.kind === 'video');
    const stats = track ? await client!.stats(track.streamId) : undefined;
    const inbound = [...(stats?.values() ?? [])].find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
    return {
      framesDecoded: (inbound?.framesDecoded as number | undefined) ?? 0,
      freezeCount: (inbound?.freezeCount as number | undefined) ?? null,
      totalFreezesDurationMs: Math.round(((inbound?.totalFreezesDuration as number | undefined) ?? 0) * 1000),
      pauseCount: (inbound?.pauseCount as number | undefined) ?? null,
    };
  },

  /** The receive transport's selected ICE path (candidate types and protocols), from getStats. */
  async receivePath() {
    const live = remotes.find((r) => r.track.readyState !== 'ended');
    const all = live ? [...((await client!.stats(live.streamId))?.values() ?? [])] : [];
    const transport = all.find((s) => s.type === 'transport');
    const pair = all.find((s) => s.id === transport?.selectedCandidatePairId);
    const local = all.find((s) => s.id === pair?.localCandidateId);
    const remote = all.find((s) => s.id === pair?.remoteCandidateId);
    return {
      localType: local?.candidateType ?? '',
      localProtocol: local?.protocol ?? '',
      relayProtocol: local?.relayProtocol ?? '',
      remoteProtocol: remote?.protocol ?? '',
      bytesReceived: pair?.bytesReceived ?? 0,
    };
  },

  participants: () => [...client!.participants.values()].map((p) => p.user).sort(),
  streams: () => [...client!.streams.values()].map((s) => `${s.owner}:${s.kind}`).sort(),
  streamIds: () => [...client!.streams.keys()].sort(),
  /** The others' publications: id, owner and each track's kind and stream id. */
  publications: () =>
    [...client!.publications.values()].map((p) => ({
      id: p.id,
      owner: p.owner,
      tracks: p.tracks.map((t) => ({ kind: t.kind, id: t.id, paused: t.paused })),
    })),
  /** Publication ids of the remote tracks received so far. */
  trackPublicationIds: () => client!.remoteTracks.map((t) => `${t.kind}:${t.publicationId}`).sort(),
  /** Ends one of our publications (all its tracks). */
  unpublishStream: (id: string) => client!.unpublish(id),
  /** Stream ids of the remote tracks received so far (live ones). */
  trackStreamIds: () => client!.remoteTracks.map((t) => t.streamId).sort(),
  events: () => events,
  states: () => states,
  connectionState: () => client!.connectionState,
  /** Closes the SDK's current WebSocket from the page (as a dying network would end it). */
  cutSocket() {
    const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
    open.at(-1)?.close(4999, 'cut by the test');
    return open.length;
  },
  /** Frames decoded so far per remote video stream, and audio energy per audio one. */
  async progress() {
    const out: Record<string, number> = {};
    for (const r of await peer.received())
      out[`${r.owner}:${r.kind}`] = r.kind === 'video' ? r.framesDecoded : r.audioEnergy;
    return out;
  },
  speakers: () => speakers,
  texts: () => texts,
  sendText: (m: string) => client!.sendText(m),
  /** Ends our track of this kind (alone, even in a publication of two). */
  unpublish: (kind: 'audio' | 'video') => client!.unpublishTrack(published[kind]!),
  publishedIds: () => ({ ...published }),
  /** Replaces a published stream with a new one of the same track (as a camera switch does); its new id. */
  async republish(kind: 'audio' | 'video') {
    await client!.unpublishTrack(published[kind]!);
    const track = kind === 'audio' ? media!.getAudioTracks()[0]! : media!.getVideoTracks()[0]!;
    published[kind] = await client!.publish(track);
    return published[kind]!;
  },
  leave: () => client!.leave(),
  /** Mutes or unmutes our track of this kind (the SDK's setMuted). */
  mute: (kind: 'audio' | 'video', muted: boolean) => client!.setMuted(published[kind]!, muted),
  /** Switches the camera: a new capture replaces the published video track (same stream id). */
  async switchCamera() {
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    await client!.replaceTrack(published.video!, fresh.getVideoTracks()[0]!);
    return fresh.getVideoTracks()[0]!.id;
  },
  setLayers: (streamId: string, spatial: number) => client!.setPreferredLayers(streamId, spatial),
  /** Receives a stream, transcoded as `video` asks; resolves to '' or the refusal's `code: message`. */
  async subscribe(streamId: string, video?: VideoTranscodeRequest) {
    return client!.subscribe(streamId, video ? { video } : {}).then(
      () => '',
      (e: { code?: number; message?: string }) => `${e.code}: ${e.message}`,
    );
  },
  /** Receives an audio stream in another codec; resolves to '' or the refusal's `code: message`. */
  async subscribeAudio(streamId: string, audio: AudioTranscodeRequest) {
    return client!.subscribe(streamId, { audio }).then(
      () => '',
      (e: { code?: number; message?: string }) => `${e.code}: ${e.message}`,
    );
  },
  updateSubscription: (streamId: string, parameters: VideoTranscodeParameters) =>
    client!.updateSubscription(streamId, parameters),

  /** Data channel round trip: publish a channel, and echo whatever arrives on subscribed ones. */
  async openData(label: string) {
    const producer = await client!.publishData(label);
    (window as unknown as { dataOut: RTCDataChannel | unknown }).dataOut = producer;
    return producer.id;
  },
  async subscribeData(streamId: string, echoTo?: string) {
    const consumer = await client!.subscribeData(streamId);
    consumer.on('message', (data) => {
      texts.push(`data:${String(data)}`);
      if (echoTo)
        (window as unknown as { dataOut: { send(d: string): void } }).dataOut.send(`echo:${String(data)}`);
    });
    return consumer.id;
  },
  sendData: (text: string) =>
    (window as unknown as { dataOut: { send(d: string): void } }).dataOut.send(text),
};

declare global {
  interface Window {
    /** The test participant's API (test/e2e/pages/sdkPeer.ts). */
    peer: typeof peer;
    /** Synthetic media and samplers for the MCU's tests (test/e2e/pages/instruments.ts). */
    instruments: PageInstruments;
  }
}

window.peer = peer;
window.instruments = pageInstruments(
  () => remotes,
  (stream, codec) => client!.publish(stream, codec ? { codec } : {}),
);
