import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { types } from 'mediasoup';

type SupportedModule = { supportedRtpCapabilities: types.RtpCapabilities };

// Entries of mediasoup's supported table carry no payload type; routers assign them.
const h265: Omit<types.RtpCodecCapability, 'preferredPayloadType'> = {
  kind: 'video',
  mimeType: 'video/H265',
  clockRate: 90000,
  parameters: {},
  rtcpFeedback: [
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
    { type: 'goog-remb' },
    { type: 'transport-cc' },
  ],
};

let enabled = false;

/**
 * mediasoup 3.19 dropped H.265. Tessera's worker has it back in its codec table
 * (scripts/mediasoup/h265-codec.patch; forwarded without key-frame detection), and this adds
 * it back to the table the Node side generates router capabilities from. The table is not
 * exported, so it is reached by file path inside the pinned mediasoup package. Idempotent.
 */
export function enableH265(): void {
  if (enabled) return;
  const require = createRequire(import.meta.url);
  const lib = dirname(require.resolve('mediasoup'));
  const { supportedRtpCapabilities } = require(join(lib, 'supportedRtpCapabilities.js')) as SupportedModule;
  const codecs = supportedRtpCapabilities.codecs ?? [];
  if (!codecs.some((c) => c.mimeType.toLowerCase() === 'video/h265')) {
    const av1 = codecs.findIndex((c) => c.mimeType.toLowerCase() === 'video/av1');
    codecs.splice(av1 >= 0 ? av1 + 1 : codecs.length, 0, h265 as types.RtpCodecCapability);
  }
  enabled = true;
}
