import { randomUUID } from 'node:crypto';
import type {
  CommandBus,
  CommandQueue,
  DeadLetter,
  DeadLetterInbox,
  ReceivedCommand,
} from '../../ports/commands.ts';
import type { NodeCommand } from '../../protocol/commands.ts';

interface Entry {
  body: string;
  receiveCount: number;
  receipt?: string;
  visibleAt: number;
}

/**
 * The command bus in one process: a queue per node with SQS's semantics that matter here
 * (at-least-once, long poll, redelivery of unacknowledged commands after a visibility timeout).
 */
export class MemoryCommandQueue implements CommandBus, CommandQueue, DeadLetterInbox {
  readonly #queues = new Map<string, Entry[]>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #visibilityMs: number;
  /** Dead-lettered commands per node, with the reason (inspectable, as an SQS DLQ is). */
  readonly deadLetters = new Map<string, { body: string; reason: string; at: number }[]>();

  constructor(options: { visibilityTimeoutMs?: number } = {}) {
    this.#visibilityMs = options.visibilityTimeoutMs ?? 30_000;
  }

  #queue(nodeId: string): Entry[] {
    const q = this.#queues.get(nodeId) ?? [];
    this.#queues.set(nodeId, q);
    return q;
  }

  async open(nodeId: string): Promise<void> {
    this.#queue(nodeId);
  }

  async send(nodeId: string, command: NodeCommand): Promise<void> {
    this.#queue(nodeId).push({ body: JSON.stringify(command), receiveCount: 0, visibleAt: 0 });
    for (const wake of this.#waiters.get(nodeId) ?? []) wake();
  }

  /** Test and fault-injection hook: enqueue a raw body, as a broken or hostile sender could. */
  async sendRaw(nodeId: string, body: string): Promise<void> {
    this.#queue(nodeId).push({ body, receiveCount: 0, visibleAt: 0 });
    for (const wake of this.#waiters.get(nodeId) ?? []) wake();
  }

  async receive(nodeId: string, options: { waitMs: number; max: number }): Promise<ReceivedCommand[]> {
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      const now = Date.now();
      const ready = this.#queue(nodeId)
        .filter((e) => e.visibleAt <= now)
        .slice(0, options.max);
      if (ready.length > 0 || now >= deadline) {
        return ready.map((e) => {
          e.receiveCount++;
          e.receipt = randomUUID();
          e.visibleAt = now + this.#visibilityMs;
          return { body: e.body, receiveCount: e.receiveCount, receipt: e.receipt };
        });
      }
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters.get(nodeId) ?? new Set();
        this.#waiters.set(nodeId, waiters);
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(deadline - now, 1000));
        waiters.add(wake);
      });
    }
  }

  async ack(nodeId: string, received: ReceivedCommand): Promise<void> {
    const q = this.#queue(nodeId);
    const at = q.findIndex((e) => e.receipt === received.receipt);
    if (at >= 0) q.splice(at, 1);
  }

  async deadLetter(nodeId: string, received: ReceivedCommand, reason: string): Promise<void> {
    const list = this.deadLetters.get(nodeId) ?? [];
    list.push({ body: received.body, reason, at: Date.now() });
    this.deadLetters.set(nodeId, list);
    await this.ack(nodeId, received);
  }

  async peekDeadLetters(max: number): Promise<DeadLetter[]> {
    return [...this.deadLetters.entries()]
      .flatMap(([nodeId, list]) => list.map((d) => ({ ...d, nodeId })))
      .sort((a, b) => a.at - b.at)
      .slice(0, max);
  }
}
