import type { NodeCommand } from '../protocol/commands.ts';

/** Sends commands to one media node's queue. */
export interface CommandBus {
  send(nodeId: string, command: NodeCommand): Promise<void>;
}

/** A command as a node receives it: the raw body (validated by the node) and its handle. */
export interface ReceivedCommand {
  body: string;
  /** Deliveries so far, 1 on the first. */
  receiveCount: number;
  receipt: string;
}

/** The media node's side of the bus: its own queue. */
export interface CommandQueue {
  /** Creates the node's queue if needed. */
  open(nodeId: string): Promise<void>;
  /** Waits up to `waitMs` for up to `max` commands; unacknowledged ones come back later. */
  receive(nodeId: string, options: { waitMs: number; max: number }): Promise<ReceivedCommand[]>;
  ack(nodeId: string, received: ReceivedCommand): Promise<void>;
  /** Moves a command that can never be processed to the dead-letter queue, with the reason. */
  deadLetter(nodeId: string, received: ReceivedCommand, reason: string): Promise<void>;
}

/** A command a node gave up on, as an operator reads it back. */
export interface DeadLetter {
  body: string;
  nodeId: string | undefined;
  /** Why the node gave up on it; absent when SQS moved it after too many deliveries. */
  reason: string | undefined;
  /** When it was dead-lettered (ms since the epoch), where the queue says. */
  at?: number | undefined;
}

/** The operator's view of the dead-letter queue: read, and left in place. */
export interface DeadLetterInbox {
  /** Up to `max` dead letters, oldest first where the queue orders them. */
  peekDeadLetters(max: number): Promise<DeadLetter[]>;
}
