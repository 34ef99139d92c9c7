import { isDeepStrictEqual } from 'node:util';
import { NotImplementedError } from '../../shared/errors.ts';
import { type RoomOptionsPatch, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';

/**
 * What OWT's REST API can ask for and this server cannot do yet, in one table: such a request
 * is refused with 501 (code 1202) naming the option, never stored and ignored. A feature that
 * lands (MCU, SIP gateway, transcoder…) deletes its rows here.
 *
 * Views are mixed (media-node/mcu): only what the mixers cannot encode is refused (`unmixable`).
 * Other room options are refused only when they differ from what the server itself fills in: OWT's
 * defaults (a "common" view, every codec, transcoding allowed) describe a room that works today
 * as far as it goes, and a room read and written back must round-trip. `transcoding` flags and
 * `mediaOut.video` say what a subscriber may ask a transcoder for (checked at subscribe time;
 * what no transcoder makes, such as H.265 out, is refused there). `enableBandwidthAdaptation` is always on (mediasoup
 * follows each subscriber's bandwidth estimate with simulcast/SVC layers).
 */
const defaults = RoomOptionsSchema.parse({});
/**
 * OWT's own defaults (owt-server source/data_access/defaults.js) for the fields where Tessera's
 * differ: Tessera adds AV1 and H.265 in and lists the audio it can actually send out. A room
 * object copied from an OWT server is accepted as it is.
 */
const owtDefaults: Partial<RoomOptionsPatch> = RoomOptionsSchema.pick({
  mediaIn: true,
  mediaOut: true,
}).parse({
  mediaIn: {
    audio: defaults.mediaIn.audio,
    video: [{ codec: 'h264' }, { codec: 'vp8' }, { codec: 'vp9' }],
  },
  mediaOut: {
    audio: [
      { codec: 'opus', sampleRate: 48000, channelNum: 2 },
      { codec: 'isac', sampleRate: 16000 },
      { codec: 'isac', sampleRate: 32000 },
      { codec: 'g722', sampleRate: 16000, channelNum: 1 },
      { codec: 'pcma' },
      { codec: 'pcmu' },
      { codec: 'aac', sampleRate: 48000, channelNum: 2 },
      { codec: 'ac3' },
      { codec: 'nellymoser' },
      { codec: 'ilbc' },
    ],
    video: defaults.mediaOut.video,
  },
});
const differs = <K extends keyof RoomOptionsPatch>(o: RoomOptionsPatch, key: K) =>
  o[key] !== undefined &&
  !isDeepStrictEqual(o[key], defaults[key]) &&
  !(key in owtDefaults && isDeepStrictEqual(o[key], owtDefaults[key]));

/** What the mixers encode (media-node/mcu): the rest of OWT's view formats is refused. */
const MIXED_VIDEO = new Set(['h264', 'vp8', 'vp9']);
/** Each with the only clock rate its encoder runs at. */
const MIXED_AUDIO: Record<string, number> = { opus: 48000, pcmu: 8000, pcma: 8000, g722: 16000 };
/** The largest mix: a 1080p canvas at 60 fps (bounds what one room can make a node encode). */
const MAX_MIX = { pixels: 1920 * 1080, framerate: 60 };

/** The first thing in the views that the mixers will not do, or undefined when they do it all. */
export function unmixable(views: RoomOptionsPatch['views']): string | undefined {
  for (const view of views ?? []) {
    const at = `view ${view.label}`;
    if (view.audio) {
      const { codec, sampleRate } = view.audio.format;
      if (!(codec in MIXED_AUDIO))
        return `${at}: audio format ${codec} is not mixed (${Object.keys(MIXED_AUDIO).join(', ')} are)`;
      if (sampleRate !== undefined && sampleRate !== MIXED_AUDIO[codec])
        return `${at}: ${codec} is mixed at ${MIXED_AUDIO[codec]} Hz only`;
    }
    const video = view.video;
    if (!video) continue;
    const { codec, profile } = video.format;
    if (!MIXED_VIDEO.has(codec)) return `${at}: video format ${codec} is not mixed (h264, vp8, vp9 are)`;
    if (codec === 'h264' && (profile === 'M' || profile === 'H'))
      return `${at}: H.264 is mixed in the constrained baseline profile only (CB, B)`;
    const { resolution, framerate } = video.parameters;
    if (resolution.width * resolution.height > MAX_MIX.pixels)
      return `${at}: mixing above 1920×1080 pixels is not supported`;
    if (framerate > MAX_MIX.framerate) return `${at}: mixing above ${MAX_MIX.framerate} fps is not supported`;
    if (video.layout.setRegionEffect !== undefined) return `${at}: layout.setRegionEffect is not supported`;
  }
  return undefined;
}

/**
 * `asks` says whether the option asks for something missing: true (the row's `feature`), or the
 * precise refusal as a string.
 */
export const unimplementedRoomOptions: readonly {
  option: keyof RoomOptionsPatch;
  feature: string;
  asks: (o: RoomOptionsPatch) => boolean | string;
}[] = [
  {
    option: 'views',
    feature: 'the mixer does not support this view',
    asks: (o) => unmixable(o.views) ?? false,
  },
  {
    option: 'sip',
    feature: 'the SIP gateway is not implemented yet',
    asks: (o) => Object.values(o.sip ?? {}).some((v) => v !== undefined && v !== ''),
  },
  {
    option: 'mediaIn',
    feature: 'input format restrictions are not implemented yet; only the default is accepted',
    asks: (o) => differs(o, 'mediaIn'),
  },
  {
    option: 'inputLimit',
    feature: 'input stream limits are not implemented yet; only -1 is accepted',
    asks: (o) => differs(o, 'inputLimit'),
  },
  {
    option: 'selectActiveAudio',
    feature: 'active audio selection is not implemented yet',
    asks: (o) => o.selectActiveAudio === true,
  },
  {
    option: 'notifying',
    feature: 'turning notifications off is not implemented yet',
    asks: (o) => differs(o, 'notifying'),
  },
];

/** OWT's room sub-resources with no implementation yet (a real route, registered first, wins). */
export const unimplementedRoomResources: readonly { resource: string; feature: string }[] = [
  { resource: 'sipcalls', feature: 'the SIP gateway is not implemented yet' },
  { resource: 'analytics', feature: 'media analytics is not implemented yet' },
  {
    resource: 'cascading',
    feature: "OWT's cluster cascading API is not implemented (rooms span nodes on their own)",
  },
  {
    resource: 'bridges',
    feature: "OWT's cluster cascading API is not implemented (rooms span nodes on their own)",
  },
];

export function refuseUnimplementedRoomOptions(options: RoomOptionsPatch): void {
  const refused = unimplementedRoomOptions.flatMap((row) => {
    const asks = row.asks(options);
    return asks === false ? [] : [{ option: row.option, feature: asks === true ? row.feature : asks }];
  });
  if (refused.length === 0) return;
  throw new NotImplementedError(refused.map((r) => `${r.option}: ${r.feature}`).join('; '), {
    options: refused.map((r) => r.option),
  });
}
