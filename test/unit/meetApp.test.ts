import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError, HttpRefusal, roomNameProblem } from '../../client/meet/messages.ts';
import { qualityOf, sampleOf } from '../../client/meet/quality.ts';
import { TesseraClientError } from '../../client/SignalingChannel.ts';
import { RoomIdSchema } from '../../shared/protocol/http/room.ts';

describe("the meeting app's messages", () => {
  it('says what to do for each way a join fails', () => {
    const refused = Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
    expect(describeError(refused)).toMatch(/access was refused.*turn camera and microphone off/);
    expect(describeError(Object.assign(new Error(''), { name: 'NotReadableError' }))).toMatch(
      /in use by another application/,
    );
    expect(describeError(new HttpRefusal(429, 1303, 'room meet is full (16 people)'))).toMatch(
      /room is full/,
    );
    expect(describeError(new HttpRefusal(403, 1102, 'not a demo room'))).toMatch(/belongs to an application/);
    expect(describeError(new HttpRefusal(404, 1001, 'no route'))).toMatch(/DEMO_JOIN=on/);
    expect(describeError(new HttpRefusal(503, 2001, 'x'))).toMatch(/server had a problem/);
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(/cannot be reached/);
    expect(describeError(new TesseraClientError(1101, 'could not connect'))).toMatch(/unreachable/);
  });

  it('checks room names as the server does', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (name) => {
        expect(roomNameProblem(name) === undefined).toBe(RoomIdSchema.safeParse(name).success);
      }),
    );
    expect(roomNameProblem('my room!')).toMatch(/1 to 64 letters/);
    expect(roomNameProblem('team-42_a')).toBeUndefined();
  });
});

describe('connection quality from getStats', () => {
  const report = (entries: Record<string, unknown>[]) =>
    new Map(entries.map((e, i) => [String(i), e])) as unknown as RTCStatsReport;

  it('sums inbound RTP and takes the nominated pair RTT', () => {
    const sample = sampleOf(
      report([
        { type: 'inbound-rtp', packetsReceived: 100, packetsLost: 2 },
        { type: 'inbound-rtp', packetsReceived: 50, packetsLost: 1 },
        { type: 'candidate-pair', nominated: false, currentRoundTripTime: 9 },
        { type: 'candidate-pair', nominated: true, currentRoundTripTime: 0.05 },
      ]),
    );
    expect(sample).toEqual({ packetsReceived: 150, packetsLost: 3, rttSeconds: 0.05 });
  });

  it('grades loss and round-trip time between two samples', () => {
    const at = (received: number, lost: number, rtt = 0.02) => ({
      packetsReceived: received,
      packetsLost: lost,
      rttSeconds: rtt,
    });
    expect(qualityOf(at(1000, 0), at(2000, 5))).toBe('good');
    expect(qualityOf(at(1000, 0), at(2000, 50))).toBe('fair');
    expect(qualityOf(at(1000, 0), at(2000, 200))).toBe('poor');
    expect(qualityOf(at(1000, 0), at(2000, 0, 0.4))).toBe('fair');
    expect(qualityOf(at(1000, 0), at(2000, 0, 0.8))).toBe('poor');
    // A muted stream receives nothing: that is not loss.
    expect(qualityOf(at(1000, 0), at(1000, 0))).toBe('good');
  });
});
