import { isDeepStrictEqual } from 'node:util';
import { NotImplementedError } from '../../shared/errors.ts';
import { type RoomOptionsPatch, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';

/**
 * What OWT's REST API can ask for and this server cannot do yet, in one table: such a request
 * is refused with 501 (code 1202) naming the option, never stored and ignored. A feature that
 * lands (MCU, SIP gateway, transcoder…) deletes its rows here.
 *
 * Room options are refused only when they differ from what the server itself fills in: OWT's
 * defaults (a "common" view, every codec, transcoding allowed) describe a room that works today
 * as far as it goes, and a room read and written back must round-trip. `transcoding` flags only
 * allow transcoding; nothing transcodes, so none of them is refused (a subscription asking for
 * another format fails at subscribe time). `enableBandwidthAdaptation` is always on (mediasoup
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

export const unimplementedRoomOptions: readonly {
  option: keyof RoomOptionsPatch;
  feature: string;
  asks: (o: RoomOptionsPatch) => boolean;
}[] = [
  {
    option: 'views',
    feature: 'mixing (MCU) is not implemented yet; only [] or the default "common" view is accepted',
    asks: (o) => o.views !== undefined && o.views.length > 0 && differs(o, 'views'),
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
    option: 'mediaOut',
    feature:
      'transcoding is not implemented yet (streams are forwarded as published); only the default is accepted',
    asks: (o) => differs(o, 'mediaOut'),
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
  { resource: 'streaming-ins', feature: 'streaming in (RTSP/RTMP pull) is not implemented yet' },
  { resource: 'streaming-outs', feature: 'streaming out (RTMP/RTSP/HLS/DASH) is not implemented yet' },
  { resource: 'recordings', feature: 'recording is not implemented yet' },
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
  const refused = unimplementedRoomOptions.filter((row) => row.asks(options));
  if (refused.length === 0) return;
  throw new NotImplementedError(refused.map((r) => `${r.option}: ${r.feature}`).join('; '), {
    options: refused.map((r) => r.option),
  });
}
