// The instruments as the e2e tests drive them, through window.instruments (see instruments.ts).
import type { RemoteTrack } from '../../../client/TesseraClient.ts';
import {
  createReferenceMix,
  createSynthetic,
  createToneMeter,
  createVideoSampler,
  type Rect,
  type Rgb,
} from './instruments.ts';

type Synthetic = ReturnType<typeof createSynthetic>;

/**
 * The instruments of one page; `remotes` lists the tracks the page's SDK has received, and
 * `publish` publishes a stream through it (returns the publication id).
 */
export function pageInstruments(
  remotes: () => RemoteTrack[],
  publish: (stream: MediaStream, codec?: string) => Promise<string>,
) {
  let synthetic: Synthetic | undefined;
  /** Each sampler and meter with the track it reads and what it was set up with (`follow` remakes them). */
  const samplers = new Map<
    string,
    ReturnType<typeof createVideoSampler> & { track: MediaStreamTrack; regions: Rect[] }
  >();
  const meters = new Map<
    string,
    ReturnType<typeof createToneMeter> & { track: MediaStreamTrack; tonesHz: number[] }
  >();
  /** A live remote track of this kind whose stream id, publication id or owner is `match`. */
  const find = (match: string, kind: 'audio' | 'video') => {
    const track = remotes().find(
      (r) =>
        r.kind === kind &&
        r.track.readyState !== 'ended' &&
        (r.streamId === match || r.publicationId === match || r.owner === match),
    );
    if (!track) throw new Error(`no live ${kind} track for ${match}`);
    return track.track;
  };
  const startSampler = (match: string, regions: Rect[]) => {
    samplers.get(match)?.close();
    const track = find(match, 'video');
    samplers.set(match, { ...createVideoSampler(track, regions), track, regions });
  };
  const startMeter = (match: string, tonesHz: number[]) => {
    meters.get(match)?.close();
    const track = find(match, 'audio');
    meters.set(match, { ...createToneMeter(track, tonesHz), track, tonesHz });
  };
  return {
    /** This page's synthetic camera and microphone (made once; join with `synthetic` uses it). */
    synthetic(options?: Parameters<typeof createSynthetic>[0]) {
      if (!synthetic && options) synthetic = createSynthetic(options);
      if (!synthetic) throw new Error('no synthetic media: join with the synthetic option');
      return synthetic;
    },
    /** Publishes a mix made in the page (instruments.ts createReferenceMix); its publication id. */
    publishReferenceMix(options: Parameters<typeof createReferenceMix>[0], codec?: string) {
      return publish(createReferenceMix(options).stream, codec);
    },
    setGain: (gain: number) => synthetic?.setGain(gain),
    setPainting: (on: boolean) => synthetic?.setPainting(on),
    has: (match: string, kind: 'audio' | 'video') => {
      try {
        find(match, kind);
        return true;
      } catch {
        return false;
      }
    },
    sampleVideo(match: string, regions: Rect[] = [{ left: 0, top: 0, width: 1, height: 1 }]) {
      startSampler(match, regions);
    },
    setRegions: (match: string, regions: Rect[]) => {
      const sampler = samplers.get(match)!;
      sampler.regions = regions;
      return sampler.setRegions(regions);
    },
    /**
     * Moves the sampler and meter of `match` to its live tracks when theirs ended: a session the
     * loaded machine made rejoin receives the stream again on new tracks. What they had sampled
     * goes with the old tracks. Returns whether either moved.
     */
    follow(match: string) {
      let moved = false;
      const sampler = samplers.get(match);
      if (sampler && sampler.track.readyState === 'ended') {
        startSampler(match, sampler.regions);
        moved = true;
      }
      const meter = meters.get(match);
      if (meter && meter.track.readyState === 'ended') {
        startMeter(match, meter.tonesHz);
        moved = true;
      }
      return moved;
    },
    videoReport: (match: string, since = 0, palette: Record<string, Rgb> = {}) =>
      samplers.get(match)!.report(since, palette),
    videoSize: (match: string) => samplers.get(match)!.size(),
    meterTones(match: string, tonesHz: number[]) {
      startMeter(match, tonesHz);
    },
    toneReport: (match: string, since = 0, thresholdDb?: number) =>
      meters.get(match)!.report(since, thresholdDb),
    loudest: (match: string, since = 0) => meters.get(match)!.loudest(since),
    now: () => Date.now(),
  };
}

export type PageInstruments = ReturnType<typeof pageInstruments>;
