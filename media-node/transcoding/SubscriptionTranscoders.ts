import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { ErrorCodes, NotImplementedError, TesseraError, ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import {
  AUDIO_OUT_FORMATS,
  type AudioOutCodec,
  type ResolvedAudioTranscode,
} from '../../shared/media/audioOut.ts';
import {
  isTranscoded,
  type ResolvedVideoTranscode,
  resolveVideoTranscode,
  type TranscodedCodec,
} from '../../shared/media/videoOut.ts';
import type {
  AudioTranscodeRequest,
  VideoTranscodeParameters,
  VideoTranscodeRequest,
} from '../../shared/protocol/signaling.ts';
import { Transcoder } from '../mcu/Transcoder.ts';
import type { Pipelines } from '../pipelines/Pipelines.ts';
import type { Peer } from '../sfu/Peer.ts';
import type { Room } from '../sfu/Room.ts';
import { AudioTranscoder } from './AudioTranscoder.ts';
import { SharedTranscoder, type TranscodingPipeline } from './SharedTranscoder.ts';
import { TranscodedTrack } from './TranscodedTrack.ts';

/**
 * Transcoding on subscribe (OWT's subscribe `media.video`, `media.audio.format` and subscription
 * `update`): a subscriber's video (or audio, in another codec) made by a transcoder of the
 * node's pipelines, one per room, source and parameter set, shared by every subscription asking
 * the same; an update moves a subscription
 * to another transcoder live; a transcoder stops with its last subscription. Transcoders count
 * against the pipeline limits (per room, per node) and in the capacity report like any pipeline.
 * The room's policy (`transcoding`, `mediaOut`) is checked before this, by the signaling function.
 */
export class SubscriptionTranscoders {
  readonly #pipelines: Pipelines;
  readonly #logger: Logger;
  /** By room, source and parameters; a promise while the transcoder starts, so that two requests share it. */
  readonly #shared = new Map<string, Promise<SharedTranscoder>>();
  readonly #sharedAudio = new Map<string, Promise<SharedTranscoder<ResolvedAudioTranscode>>>();
  readonly #tracks = new Map<string, TranscodedTrack>();

  constructor(options: { pipelines: Pipelines; logger: Logger }) {
    this.#pipelines = options.pipelines;
    this.#logger = options.logger.child({ component: 'subscription-transcoders' });
  }

  /** Whether a request asks for anything a plain subscription to the source would not give. */
  static transcodes(request: VideoTranscodeRequest | undefined, sourceCodec: string): boolean {
    if (!request) return false;
    const p = request.parameters ?? {};
    const changes =
      p.resolution !== undefined ||
      p.framerate !== undefined ||
      p.keyFrameInterval !== undefined ||
      (p.bitrate !== undefined && Number(p.bitrate.slice(1)) !== 1);
    return changes || (request.format !== undefined && request.format.codec !== sourceCodec);
  }

  /** Subscribes `peer` to `producerId` through a transcoder, or plainly when nothing needs one. */
  async subscribe(
    room: Room,
    peer: Peer,
    producerId: string,
    request: VideoTranscodeRequest,
  ): Promise<types.Consumer> {
    const source = room.stream(producerId);
    if (source?.announcement.kind !== 'video')
      throw source
        ? new ValidationError('only video is transcoded on subscribe', [
            { path: 'video', message: 'not a video stream' },
          ])
        : new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId}`);
    const sourceCodec = codecOf(source.producer as types.Producer);
    if (!SubscriptionTranscoders.transcodes(request, sourceCodec ?? ''))
      return room.subscribe(peer, producerId);
    const codec: TranscodedCodec =
      request.format?.codec && isTranscoded(request.format.codec)
        ? request.format.codec
        : sourceCodec && isTranscoded(sourceCodec)
          ? sourceCodec
          : 'h264';
    const params = resolveVideoTranscode(codec, request.parameters);
    let track: TranscodedTrack | undefined;
    try {
      const consumer = await room.subscribe(peer, producerId, {
        standIn: async (router) => {
          const shared = await this.#acquireVideo(room, producerId, params);
          track = await TranscodedTrack.create(router, producerId, shared).finally(() => {
            shared.closeIfUnused();
          });
          return track.producer.id;
        },
      });
      const made = track!;
      this.#tracks.set(consumer.id, made);
      consumer.observer.once('close', () => {
        this.#tracks.delete(consumer.id);
        made.close();
      });
      return consumer;
    } catch (error) {
      track?.close();
      throw error;
    }
  }

  /**
   * Subscribes `peer` to the audio `producerId` in the codec asked for (the room allowed it:
   * shared/media/audioOut.ts), through a shared audio transcoder, or plainly in the source's own.
   */
  async subscribeAudio(
    room: Room,
    peer: Peer,
    producerId: string,
    request: AudioTranscodeRequest,
  ): Promise<types.Consumer> {
    const source = room.stream(producerId);
    if (source?.announcement.kind !== 'audio')
      throw source
        ? new ValidationError('audio formats are asked of audio streams', [
            { path: 'audio', message: 'not an audio stream' },
          ])
        : new TesseraError(ErrorCodes.streamNotFound, `no stream ${producerId}`);
    const { codec } = request.format;
    if (!(codec in AUDIO_OUT_FORMATS))
      throw new NotImplementedError(`${codec} is not delivered to WebRTC subscribers`, { option: 'audio' });
    if (codecOf(source.producer as types.Producer) === codec) return room.subscribe(peer, producerId);
    const params: ResolvedAudioTranscode = {
      codec: codec as AudioOutCodec,
      ...AUDIO_OUT_FORMATS[codec as AudioOutCodec],
    };
    let track: TranscodedTrack<ResolvedAudioTranscode> | undefined;
    try {
      const consumer = await room.subscribe(peer, producerId, {
        standIn: async (router) => {
          const key = [room.id, producerId, 'audio', codec].join('|');
          const shared = await this.#acquire(this.#sharedAudio, key, () =>
            this.#startAudio(key, room, producerId, params),
          );
          track = await TranscodedTrack.create(router, producerId, shared).finally(() =>
            shared.closeIfUnused(),
          );
          return track.producer.id;
        },
      });
      const made = track!;
      consumer.observer.once('close', () => made.close());
      return consumer;
    } catch (error) {
      track?.close();
      throw error;
    }
  }

  /** A transcoded subscription's parameters changed (unset ones kept); live from the next key frame. */
  async update(
    room: Room,
    consumerId: string,
    parameters: VideoTranscodeParameters,
  ): Promise<ResolvedVideoTranscode> {
    const track = this.#tracks.get(consumerId);
    if (!track || track.closed)
      throw new ValidationError('this subscription is not transcoded: subscribe with video parameters', [
        { path: 'consumerId', message: 'not a transcoded subscription' },
      ]);
    const next = resolveVideoTranscode(track.target.codec, parameters, track.target);
    const shared = await this.#acquireVideo(room, track.sourceId, next);
    if (track.closed) {
      shared.closeIfUnused();
      throw new TesseraError(ErrorCodes.notFound, `subscription ${consumerId} closed meanwhile`);
    }
    track.switchTo(shared);
    shared.closeIfUnused();
    return next;
  }

  /** How many transcoders run (for tests and metrics). */
  get transcoders(): number {
    return this.#shared.size + this.#sharedAudio.size;
  }

  #acquireVideo(room: Room, sourceId: string, params: ResolvedVideoTranscode): Promise<SharedTranscoder> {
    const key = [room.id, sourceId, params.codec, params.width, params.height, params.framerate]
      .concat([params.bitrateKbps, params.keyFrameIntervalSeconds])
      .join('|');
    return this.#acquire(this.#shared, key, () => this.#startVideo(key, room, sourceId, params));
  }

  /** The transcoder under `key`, or a new one from `start` (also when the one there closed since). */
  #acquire<P>(
    shared: Map<string, Promise<SharedTranscoder<P>>>,
    key: string,
    start: () => Promise<SharedTranscoder<P>>,
  ): Promise<SharedTranscoder<P>> {
    const existing = shared.get(key);
    // One that closed since (its last listener left) makes way for a new one.
    return existing ? existing.then((s) => (s.closed ? start() : s)) : start();
  }

  #startAudio(
    key: string,
    room: Room,
    sourceId: string,
    params: ResolvedAudioTranscode,
  ): Promise<SharedTranscoder<ResolvedAudioTranscode>> {
    const transcoder = new AudioTranscoder(
      {
        id: `transcode-audio-${randomUUID()}`,
        kind: 'transcode-audio',
        roomId: room.id,
        inputs: [sourceId],
        params: { codec: params.codec },
      },
      this.#pipelines.context(room),
    );
    return this.#run(this.#sharedAudio, key, room, sourceId, params, transcoder);
  }

  #startVideo(
    key: string,
    room: Room,
    sourceId: string,
    params: ResolvedVideoTranscode,
  ): Promise<SharedTranscoder> {
    const transcoder = new Transcoder(
      {
        id: `transcode-${randomUUID()}`,
        kind: 'transcode',
        roomId: room.id,
        inputs: [sourceId],
        params: {
          codec: params.codec,
          width: params.width,
          height: params.height,
          framerate: params.framerate,
          bitrateKbps: params.bitrateKbps,
          keyFrameIntervalSeconds: params.keyFrameIntervalSeconds,
        },
      },
      this.#pipelines.context(room),
      { publish: false },
    );
    return this.#run(this.#shared, key, room, sourceId, params, transcoder);
  }

  /** Runs `transcoder` under the node's pipelines and shares it under `key` until it closes. */
  #run<P>(
    shared: Map<string, Promise<SharedTranscoder<P>>>,
    key: string,
    room: Room,
    sourceId: string,
    params: P,
    transcoder: TranscodingPipeline,
  ): Promise<SharedTranscoder<P>> {
    // Throws a LimitError when the room or the node runs all the pipelines it may.
    this.#pipelines.run(transcoder);
    this.#logger.info('transcoder started', {
      pipelineId: transcoder.id,
      roomId: room.id,
      sourceId,
      ...params,
    });
    const opening = SharedTranscoder.open(params, transcoder, room.router);
    shared.set(key, opening);
    const forget = () => {
      if (shared.get(key) === opening) shared.delete(key);
    };
    opening.then((s) => (s.closed ? forget() : s.once('close', forget)), forget);
    return opening;
  }
}

function codecOf(producer: types.Producer): string | undefined {
  return producer.rtpParameters.codecs[0]?.mimeType.split('/')[1]?.toLowerCase();
}
