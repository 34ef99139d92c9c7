import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import { Device } from 'mediasoup-client';
import * as fakeParameters from 'mediasoup-client/fakeParameters';
import { FakeHandler } from 'mediasoup-client/handlers/FakeHandler';
import { describe, expect, it } from 'vitest';
import { methodParams, RtpParametersSchema, withinJsonBounds } from '../../shared/protocol/signaling.ts';

const mid = { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} };
const twcc = {
  uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  id: 3,
  encrypt: false,
  parameters: {},
};
const absSendTime = {
  uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  id: 2,
  encrypt: false,
  parameters: {},
};

/** What mediasoup-client 3.24 on Chrome sends for `produce` of a camera with three simulcast layers. */
const chromeVp8Simulcast = () =>
  structuredClone({
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [
          { type: 'goog-remb', parameter: '' },
          { type: 'transport-cc', parameter: '' },
          { type: 'ccm', parameter: 'fir' },
          { type: 'nack', parameter: '' },
          { type: 'nack', parameter: 'pli' },
        ],
      },
      { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
    ],
    headerExtensions: [
      mid,
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 10, encrypt: false, parameters: {} },
      {
        uri: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
        id: 11,
        encrypt: false,
        parameters: {},
      },
      absSendTime,
      twcc,
      { uri: 'urn:3gpp:video-orientation', id: 13, encrypt: false, parameters: {} },
      { uri: 'urn:ietf:params:rtp-hdrext:toffset', id: 14, encrypt: false, parameters: {} },
      {
        uri: 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
        id: 12,
        encrypt: false,
        parameters: {},
      },
    ],
    encodings: [
      {
        active: true,
        rid: 'r0',
        scaleResolutionDownBy: 4,
        maxBitrate: 150000,
        scalabilityMode: 'L1T3',
        dtx: false,
      },
      {
        active: true,
        rid: 'r1',
        scaleResolutionDownBy: 2,
        maxBitrate: 500000,
        scalabilityMode: 'L1T3',
        dtx: false,
      },
      {
        active: true,
        rid: 'r2',
        scaleResolutionDownBy: 1,
        maxBitrate: 1500000,
        scalabilityMode: 'L1T3',
        dtx: false,
      },
    ],
    rtcp: { cname: 'xYbGi5dm5cT3hxX0', reducedSize: true },
    mid: '1',
    msid: '3f8c7e32-5b0e-4f9e-9d3b-0c9d2f1a7e55 9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
  });

/** Chrome's opus `produce` (a single encoding with its SSRC, in-band FEC on, DTX off). */
const chromeOpus = () =>
  structuredClone({
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1, 'sprop-stereo': 0, usedtx: 0 },
        rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
      },
    ],
    headerExtensions: [
      mid,
      absSendTime,
      twcc,
      { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1, encrypt: false, parameters: {} },
    ],
    encodings: [{ ssrc: 2913132541, dtx: false }],
    rtcp: { cname: 'xYbGi5dm5cT3hxX0', reducedSize: true },
    mid: '0',
  });

/** Chrome's H.264 without simulcast: SSRC and RTX SSRC near 2^32, string fmtp values. */
const chromeH264 = () =>
  structuredClone({
    codecs: [
      {
        mimeType: 'video/H264',
        payloadType: 102,
        clockRate: 90000,
        parameters: { 'level-asymmetry-allowed': 1, 'packetization-mode': 1, 'profile-level-id': '42e01f' },
        rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
      },
      {
        mimeType: 'video/rtx',
        payloadType: 103,
        clockRate: 90000,
        parameters: { apt: 102 },
        rtcpFeedback: [],
      },
    ],
    headerExtensions: [mid, { uri: 'http://example.org/two-byte-extension', id: 200, parameters: {} }],
    encodings: [{ ssrc: 4294967295, rtx: { ssrc: 0 }, dtx: false }],
    rtcp: { cname: 'c', reducedSize: true },
  });

const parse = (p: unknown) => RtpParametersSchema.safeParse(p);
const publish = (rtpParameters: unknown) =>
  methodParams.publish.safeParse({ transportId: 't', kind: 'video', source: 'camera', rtpParameters });

describe('RTP parameters from real browsers pass', () => {
  it.each([
    ['VP8 with three simulcast layers', chromeVp8Simulcast()],
    ['opus', chromeOpus()],
    ['H.264 with RTX, two-byte header extension id', chromeH264()],
  ])('%s', (_, p) => {
    const parsed = parse(p);
    expect(parsed.error?.issues).toBeUndefined();
    // Fields the schema does not name (scaleResolutionDownBy, active) reach mediasoup unchanged.
    const { msid: _msid, ...known } = p as typeof p & { msid?: string };
    expect(parsed.data).toEqual(known);
  });

  it('what mediasoup-client itself produces (its FakeHandler), with and without simulcast', async () => {
    const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
    await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
    const transport = device.createSendTransport(fakeParameters.generateTransportRemoteParameters());
    const sent: unknown[] = [];
    transport.on('connect', (_p, done) => done());
    transport.on('produce', ({ rtpParameters }, done) => {
      sent.push(rtpParameters);
      done({ id: `p${sent.length}` });
    });
    await transport.produce({ track: new FakeMediaStreamTrack({ kind: 'audio' }) as never });
    await transport.produce({
      track: new FakeMediaStreamTrack({ kind: 'video' }) as never,
      encodings: [{ maxBitrate: 150_000 }, { maxBitrate: 500_000 }, { maxBitrate: 1_500_000 }],
    });
    expect(sent).toHaveLength(2);
    for (const p of sent) expect(publish(p).error?.issues).toBeUndefined();
  });

  it('the SDK login capabilities of mediasoup-client pass', async () => {
    const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
    await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
    expect(methodParams.login.safeParse({ rtpCapabilities: device.rtpCapabilities }).success).toBe(true);
  });
});

describe('out-of-range RTP parameters are refused', () => {
  const vp8 = chromeVp8Simulcast;
  type Vp8 = ReturnType<typeof vp8>;
  const codec = (p: Vp8) => p.codecs[0] as Record<string, unknown>;
  const encoding = (p: Vp8) => p.encodings[0] as Record<string, unknown>;
  it.each<[string, (p: Vp8) => unknown, string]>([
    ['payloadType 128', (p) => Object.assign(codec(p), { payloadType: 128 }), 'codecs.0.payloadType'],
    ['payloadType -1', (p) => Object.assign(codec(p), { payloadType: -1 }), 'codecs.0.payloadType'],
    ['payloadType 96.5', (p) => Object.assign(codec(p), { payloadType: 96.5 }), 'codecs.0.payloadType'],
    ['clockRate 0', (p) => Object.assign(codec(p), { clockRate: 0 }), 'codecs.0.clockRate'],
    ['clockRate as a string', (p) => Object.assign(codec(p), { clockRate: '90000' }), 'codecs.0.clockRate'],
    ['channels 9', (p) => Object.assign(codec(p), { channels: 9 }), 'codecs.0.channels'],
    ['channels 0', (p) => Object.assign(codec(p), { channels: 0 }), 'codecs.0.channels'],
    ['SSRC 2^32', (p) => Object.assign(encoding(p), { ssrc: 2 ** 32 }), 'encodings.0.ssrc'],
    ['negative SSRC', (p) => Object.assign(encoding(p), { ssrc: -5 }), 'encodings.0.ssrc'],
    ['RTX SSRC 2^32', (p) => Object.assign(encoding(p), { rtx: { ssrc: 2 ** 32 } }), 'encodings.0.rtx.ssrc'],
    [
      'header extension id 0',
      (p) => Object.assign(p.headerExtensions[0]!, { id: 0 }),
      'headerExtensions.0.id',
    ],
    [
      'header extension id 256',
      (p) => Object.assign(p.headerExtensions[0]!, { id: 256 }),
      'headerExtensions.0.id',
    ],
    ['a mime type without a kind', (p) => Object.assign(codec(p), { mimeType: 'VP8' }), 'codecs.0.mimeType'],
    [
      'a 10 KB mime type',
      (p) => Object.assign(codec(p), { mimeType: `video/${'x'.repeat(10_000)}` }),
      'codecs.0.mimeType',
    ],
    ['a 10 KB CNAME', (p) => Object.assign(p.rtcp, { cname: 'x'.repeat(10_000) }), 'rtcp.cname'],
    [
      'an object as a codec parameter',
      (p) => Object.assign(codec(p), { parameters: { x: { y: 1 } } }),
      'codecs.0.parameters.x',
    ],
    [
      '100 codec parameters',
      (p) =>
        Object.assign(codec(p), {
          parameters: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])),
        }),
      'codecs.0.parameters',
    ],
    [
      '9 encodings',
      (p) => p.encodings.push(...Array.from({ length: 6 }, () => ({ ...p.encodings[0]! }))),
      'encodings',
    ],
  ])('%s', (_, mutate, path) => {
    const p = vp8();
    mutate(p);
    const parsed = parse(p);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it.each([
    [
      'nested arrays',
      () => {
        let v: unknown = 1;
        for (let i = 0; i < 10_000; i++) v = [v];
        return v;
      },
    ],
    [
      'nested objects',
      () => {
        let v: unknown = 1;
        for (let i = 0; i < 10_000; i++) v = { a: v };
        return v;
      },
    ],
  ])('10,000 levels of %s in a field the schema passes through: refused, nothing thrown', (_, deep) => {
    const p = vp8() as ReturnType<typeof vp8> & Record<string, unknown>;
    (p.codecs[0] as Record<string, unknown>).extra = deep();
    let parsed: ReturnType<typeof publish> | undefined;
    expect(() => {
      parsed = publish(p);
    }).not.toThrow();
    expect(parsed!.success).toBe(false);
    expect(parsed!.error!.issues[0]!.message).toMatch(/deeply nested/);
  });

  it('deep nesting inside login capabilities is refused too', () => {
    let v: unknown = 1;
    for (let i = 0; i < 10_000; i++) v = { a: v };
    const parsed = methodParams.login.safeParse({ rtpCapabilities: { codecs: [{ parameters: v }] } });
    expect(parsed.success).toBe(false);
  });
});

describe('withinJsonBounds', () => {
  const nest = (levels: number) => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };
  it('counts container depth exactly', () => {
    expect(withinJsonBounds('x', { maxDepth: 0 })).toBe(true);
    expect(withinJsonBounds({}, { maxDepth: 0 })).toBe(false);
    expect(withinJsonBounds(nest(32))).toBe(true);
    expect(withinJsonBounds(nest(33))).toBe(false);
    expect(withinJsonBounds(nest(100_000))).toBe(false);
  });
  it('counts every value against maxNodes', () => {
    expect(
      withinJsonBounds(
        Array.from({ length: 99 }, () => 0),
        { maxNodes: 100 },
      ),
    ).toBe(true);
    expect(
      withinJsonBounds(
        Array.from({ length: 100 }, () => 0),
        { maxNodes: 100 },
      ),
    ).toBe(false);
    expect(withinJsonBounds({ a: [1, 2], b: { c: null } }, { maxNodes: 6 })).toBe(true);
    expect(withinJsonBounds({ a: [1, 2], b: { c: null } }, { maxNodes: 5 })).toBe(false);
  });
  it('a frame-sized flat array of numbers stays fast and bounded', () => {
    const wide = JSON.parse(`[${'0,'.repeat(65_000)}0]`);
    expect(withinJsonBounds(wide)).toBe(false);
    expect(withinJsonBounds(wide, { maxNodes: 100_000 })).toBe(true);
  });
});
