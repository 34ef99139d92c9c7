import { ValidationError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { CommandQueue, ReceivedCommand } from '../../shared/ports/commands.ts';
import type { CommandLedger } from '../../shared/ports/live.ts';
import { type NodeCommand, NodeCommandSchema } from '../../shared/protocol/commands.ts';
import { parseOrThrow } from '../../shared/protocol/issues.ts';

/** Redeliveries come within SQS's visibility retries (5 deliveries, then the dead-letter queue). */
const REMEMBER_MS = 60 * 60 * 1000;
/**
 * A client's request is worth answering for seconds (the SDK gives up after 10 s), so a signal
 * older than this is dropped unanswered, and its ledger key need not outlive it: one Redis key
 * per signaling message, gone two minutes later.
 */
const SIGNAL_STALE_MS = 60 * 1000;
const SIGNAL_REMEMBER_MS = 2 * SIGNAL_STALE_MS;

export type CommandHandler = (command: NodeCommand) => Promise<void>;

export interface CommandProcessorOptions {
  nodeId: string;
  queue: CommandQueue;
  ledger: CommandLedger;
  handle: CommandHandler;
  logger: Logger;
  /**
   * When this life of the node began (ms). A command issued before it was meant for an earlier
   * life (a restart under the same id): the peers, rooms and links it speaks of are gone, and
   * acting on it would do harm (a login making a peer for a session that moved on, a closed
   * connection ending a participant that lives on another node). Clocks agree (NTP).
   */
  since?: number | undefined;
  /** Counts for the node's metrics. */
  observers?: { commandProcessed(type: string): void; commandDeadLettered(): void } | undefined;
}

/**
 * Drains this node's command queue. Every command is validated (it came over the network),
 * processed at most once (SQS delivers at least once), in order within its room, and then
 * acknowledged. A command that can never be valid goes to the dead-letter queue with the reason.
 */
export class CommandProcessor {
  readonly #o: CommandProcessorOptions;
  readonly #roomChains = new Map<string, Promise<void>>();
  /** Acknowledgements on their way (batched by the queue), awaited by stop(). */
  readonly #acks = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(options: CommandProcessorOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#roomChains.values());
    await Promise.all(this.#acks);
  }

  async #run(): Promise<void> {
    const { queue, nodeId, logger } = this.#o;
    while (this.#running) {
      let batch: ReceivedCommand[];
      try {
        batch = await queue.receive(nodeId, { waitMs: 1000, max: 10 });
      } catch (error) {
        logger.error('command queue unavailable', { error });
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      for (const received of batch) this.#dispatch(received);
    }
  }

  #dispatch(received: ReceivedCommand): void {
    let command: NodeCommand;
    try {
      command = parseOrThrow(NodeCommandSchema, JSON.parse(received.body), 'command');
    } catch (error) {
      const reason =
        error instanceof SyntaxError
          ? `not JSON: ${error.message}`
          : error instanceof ValidationError
            ? error.publicMessage
            : `invalid command: ${String(error)}`;
      this.#o.logger.warn('command dead-lettered', { reason, receiveCount: received.receiveCount });
      this.#o.observers?.commandDeadLettered();
      void this.#o.queue
        .deadLetter(this.#o.nodeId, received, reason)
        .catch((e) => this.#o.logger.error('dead-letter failed', { error: e }));
      return;
    }
    const previous = this.#roomChains.get(command.roomId) ?? Promise.resolve();
    const next = previous.then(() => this.#process(command, received));
    this.#roomChains.set(command.roomId, next);
    void next.finally(() => {
      if (this.#roomChains.get(command.roomId) === next) this.#roomChains.delete(command.roomId);
    });
  }

  async #process(command: NodeCommand, received: ReceivedCommand): Promise<void> {
    const { queue, nodeId, ledger, handle, logger } = this.#o;
    try {
      const signal = command.type === 'signal';
      if (this.#o.since !== undefined && Date.parse(command.issuedAt) < this.#o.since) {
        logger.info('command for an earlier life of this node dropped', {
          id: command.id,
          type: command.type,
          issuedAt: command.issuedAt,
        });
      } else if (signal && Date.now() - Date.parse(command.issuedAt) > SIGNAL_STALE_MS) {
        logger.warn('stale signaling request dropped', { id: command.id, issuedAt: command.issuedAt });
      } else if (await ledger.firstTime(command.id, signal ? SIGNAL_REMEMBER_MS : REMEMBER_MS)) {
        await handle(command);
        this.#o.observers?.commandProcessed(command.type);
      } else logger.debug('duplicate command skipped', { id: command.id, type: command.type });
    } catch (error) {
      // Handlers answer their own callers; a failure here is logged and the command is not retried.
      logger.error('command failed', { id: command.id, type: command.type, error });
    }
    // Not part of the room's order: its next command goes on while this acknowledgement waits
    // for its batch (a redelivery meanwhile is skipped by the ledger).
    const acked = queue.ack(nodeId, received).catch((error) => logger.error('ack failed', { error }));
    this.#acks.add(acked);
    void acked.finally(() => this.#acks.delete(acked));
  }
}
