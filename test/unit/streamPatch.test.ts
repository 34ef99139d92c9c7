import { describe, expect, it } from 'vitest';
import { applyStreamPatch } from '../../functions/services/StreamService.ts';
import type { Stream } from '../../shared/protocol/http/liveState.ts';
import type { Room } from '../../shared/protocol/http/room.ts';

const room = { options: { views: [{ label: 'common' }] } } as unknown as Room;
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
      new Set(['pub-1']),
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
        new Set(),
      ),
    ).toThrow(expect.objectContaining({ code: 1301 }));
  });
});
