import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventSink } from '../../shared/adapters/memory/MemoryEventSink.ts';
import { SqsEventSink } from '../../shared/adapters/sqs/SqsEventSink.ts';
import type { EventSink } from '../../shared/ports/events.ts';
import { EventSchema, newEvent, type TesseraEvent } from '../../shared/protocol/events.ts';
import { sqsClient, uniqueId } from './adapters.ts';

interface Subject {
  sink: EventSink;
  /** Every event a consumer has received, waiting up to `ms` for `expected` (and a moment for extras). */
  received(ms: number, expected: number): Promise<TesseraEvent[]>;
  close(): void;
}

const adapters: [string, () => Subject][] = [
  [
    'memory',
    () => {
      const sink = new MemoryEventSink();
      const got: TesseraEvent[] = [];
      sink.subscribe((e) => got.push(e));
      // A throwing subscriber costs the others nothing.
      sink.subscribe(() => {
        throw new Error('consumer bug');
      });
      return { sink, received: async () => got, close: () => {} };
    },
  ],
  [
    'sqs',
    () => {
      const sqs = sqsClient();
      const sink = new SqsEventSink(sqs, { prefix: `${uniqueId('t')}-` });
      const got: TesseraEvent[] = [];
      return {
        sink,
        async received(ms, expected) {
          const deadline = Date.now() + ms;
          let quiet = 0;
          // Until all came and one more poll brought nothing (a duplicate would show).
          while (Date.now() < deadline && (got.length < expected || quiet < 1)) {
            const batch = await sink.receive({ waitMs: 1000, max: 10 });
            got.push(...batch.map((m) => EventSchema.parse(JSON.parse(m.body))));
            await sink.ack(batch.map((m) => m.receipt));
            quiet = batch.length === 0 ? quiet + 1 : 0;
          }
          return got;
        },
        close: () => sqs.destroy(),
      };
    },
  ],
];

const joined = (n: number) =>
  newEvent('participant.joined', {
    serviceId: 'svc',
    roomId: 'standup',
    nodeId: 'node-1',
    data: { participant: { id: `p-${n}`, user: `user-${n}`, role: 'presenter' } },
  });

describe.each(adapters)('event sink contract: %s', (_name, make) => {
  let subject: Subject;
  beforeAll(() => {
    subject = make();
  });
  afterAll(() => subject.close());

  it('hands every published event to the consumer intact, once, batches beyond ten included', async () => {
    const events: TesseraEvent[] = [
      newEvent('room.started', { serviceId: 'svc', roomId: 'standup', nodeId: 'node-1', data: {} }),
      ...Array.from({ length: 12 }, (_, n) => joined(n)),
    ];
    await subject.sink.publish(events);
    await subject.sink.publish([]);
    const got = await subject.received(10_000, events.length);
    expect(got).toHaveLength(events.length);
    expect(new Set(got.map((e) => e.id)).size).toBe(events.length);
    const byId = new Map(got.map((e) => [e.id, e]));
    for (const e of events) expect(byId.get(e.id)).toEqual(e);
  });
});

describe('event schema', () => {
  it('accepts v1 events and refuses unknown versions, types and malformed ids', () => {
    const e = joined(1);
    expect(EventSchema.parse(JSON.parse(JSON.stringify(e)))).toEqual(e);
    expect(EventSchema.safeParse({ ...e, v: 2 }).success).toBe(false);
    expect(EventSchema.safeParse({ ...e, type: 'participant.danced' }).success).toBe(false);
    expect(EventSchema.safeParse({ ...e, id: 'not-a-uuid' }).success).toBe(false);
    expect(EventSchema.safeParse({ ...e, data: {} }).success).toBe(false);
  });
});
