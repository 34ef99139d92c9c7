import { describe, expect, it } from 'vitest';
import { applyStreamPatch } from '../../functions/services/StreamService.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import { type Room, RoomOptionsSchema } from '../../shared/protocol/http/room.ts';
import { mixedStreamId } from '../../shared/protocol/mcu.ts';

const room = {
  options: RoomOptionsSchema.parse({
    views: [
      { label: 'common', video: { maxInput: 2 } },
      { label: 'voice', video: false },
    ],
  }),
} as unknown as Room;
const track = { status: 'active' as const, format: { codec: 'opus', sampleRate: 48000, channelNum: 2 } };
/** A camera with its microphone: one OWT stream, two tracks. */
const publication: Stream = {
  id: 'pub-1',
  roomId: 'svc/room',
  type: 'forward',
  media: {
    audio: { ...track, source: 'mic' },
    video: { status: 'active', format: { codec: 'h264', profile: 'CB' }, source: 'camera' },
  },
  info: { owner: 'ana', type: 'webrtc', inViews: [], origin: { kind: 'participant', participantId: 'ana' } },
  version: 3,
};

describe('OWT stream PATCH on a publication of two tracks', () => {
  it('pauses one kind and leaves the other, keeping formats and origin', () => {
    const next = applyStreamPatch(
      room,
      publication,
      [
        { op: 'replace', path: '/media/video/status', value: 'inactive' },
        { op: 'add', path: '/info/inViews', value: 'common' },
      ],
      new Map([['pub-1', publication]]),
    );
    expect(next.media.video).toEqual({ ...publication.media.video, status: 'inactive' });
    expect(next.media.audio).toEqual(publication.media.audio);
    expect(next.info).toEqual({ ...publication.info, inViews: ['common'] });
    expect(next.version).toBe(4);
  });

  it('refuses a kind the publication lacks (a lone audio track)', () => {
    const audioOnly: Stream = { ...publication, media: { audio: publication.media.audio! } };
    expect(() =>
      applyStreamPatch(
        room,
        audioOnly,
        [{ op: 'replace', path: '/media/video/status', value: 'inactive' }],
        new Map(),
      ),
    ).toThrow(expect.objectContaining({ code: 1301 }));
  });
});

const region = (id: string, left = 0) => ({
  id,
  shape: 'rectangle' as const,
  area: { left, top: 0, width: 0.5, height: 1 },
});
/** The view's mixed stream, as the host records it: a layout of two regions, one showing pub-1. */
const mix: Stream = {
  id: mixedStreamId('common'),
  roomId: 'svc/room',
  type: 'mixed',
  media: { video: { status: 'active', format: { codec: 'h264' } } },
  info: {
    type: 'mixed',
    label: 'common',
    inViews: [],
    layout: [{ stream: 'pub-1', region: region('1') }, { region: region('2', 0.5) }],
    origin: { kind: 'pipeline', pipelineId: 'mix-common' },
  },
  version: 5,
};
const forward = (id: string, inViews: string[]): Stream => ({
  ...publication,
  id,
  info: { ...publication.info, inViews },
});
const live = new Map<string, Stream>([
  ['pub-1', forward('pub-1', ['common'])],
  ['pub-2', forward('pub-2', ['common'])],
  ['pub-3', forward('pub-3', ['common'])],
  ['unmixed', forward('unmixed', [])],
  [mix.id, mix],
]);
const refused = (s: Stream, ops: Parameters<typeof applyStreamPatch>[2]) => {
  try {
    applyStreamPatch(room, s, ops, live);
  } catch (error) {
    return (error as { details: { issues: { message: string }[] } }).details.issues.map((i) => i.message);
  }
  throw new Error('not refused');
};

describe('OWT stream PATCH on a mixed stream: checked against the view', () => {
  it("replaces one region's stream with a stream mixed into the view", () => {
    const next = applyStreamPatch(
      room,
      mix,
      [{ op: 'replace', path: '/info/layout/1/stream', value: 'pub-2' }],
      live,
    );
    expect(next.info.layout).toEqual([
      { stream: 'pub-1', region: region('1') },
      { stream: 'pub-2', region: region('2', 0.5) },
    ]);
    expect(next.version).toBe(6);
  });

  it('replaces the whole layout: existing regions by id, new ones with an area', () => {
    const layout = [
      { stream: 'pub-2', region: { id: '2', shape: 'rectangle' as const } },
      { region: region('3') },
    ];
    expect(
      applyStreamPatch(room, mix, [{ op: 'replace', path: '/info/layout', value: layout }], live).info.layout,
    ).toEqual(layout);
  });

  it('refuses a missing region, a stream not live, not mixed into the view, or a mixed one', () => {
    expect(refused(mix, [{ op: 'replace', path: '/info/layout/7/stream', value: 'pub-2' }])).toEqual([
      'stream has no layout region 7',
    ]);
    expect(refused(mix, [{ op: 'replace', path: '/info/layout/0/stream', value: 'gone' }])).toEqual([
      'no stream gone',
    ]);
    expect(refused(mix, [{ op: 'replace', path: '/info/layout/0/stream', value: 'unmixed' }])).toEqual([
      'stream unmixed is not mixed into view common',
    ]);
    expect(refused(mix, [{ op: 'replace', path: '/info/layout/0/stream', value: mix.id }])).toEqual([
      `stream ${mix.id} is not a forward stream`,
    ]);
    expect(
      refused(mix, [
        { op: 'replace', path: '/info/layout', value: [{ region: { id: '9', shape: 'rectangle' } }] },
      ]),
    ).toEqual(['no region 9 in the layout (give its area to add one)']);
  });

  it("refuses more streams than the view's maxInput, and a region twice", () => {
    expect(
      refused(mix, [
        {
          op: 'replace',
          path: '/info/layout',
          value: [
            { stream: 'pub-1', region: region('1') },
            { stream: 'pub-2', region: region('2') },
            { stream: 'pub-3', region: region('2') },
          ],
        },
      ]),
    ).toEqual(['region 2 twice', 'view common mixes at most 2']);
  });

  it('refuses a layout on a forward stream, or on the mix of a view the room no longer has', () => {
    expect(refused(publication, [{ op: 'replace', path: '/info/layout/0/stream', value: 'pub-2' }])).toEqual([
      'only mixed streams have a layout',
    ]);
    const orphan = { ...mix, info: { ...mix.info, label: 'old' } };
    expect(refused(orphan, [{ op: 'replace', path: '/info/layout/0/stream', value: 'pub-2' }])).toEqual([
      'the room has no video view old',
    ]);
  });

  it('mixes and unmixes forward streams into views the room has, not mixed streams', () => {
    const next = applyStreamPatch(
      room,
      forward('pub-2', ['common']),
      [
        { op: 'remove', path: '/info/inViews', value: 'common' },
        { op: 'add', path: '/info/inViews', value: 'voice' },
      ],
      live,
    );
    expect(next.info.inViews).toEqual(['voice']);
    expect(refused(publication, [{ op: 'add', path: '/info/inViews', value: 'stage' }])).toEqual([
      'room has no view stage',
    ]);
    expect(refused(mix, [{ op: 'add', path: '/info/inViews', value: 'voice' }])).toEqual([
      'only forward streams are mixed into views',
    ]);
  });
});
