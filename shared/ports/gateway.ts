import { ErrorCodes, TesseraError } from '../errors.ts';
import type { Permission } from '../protocol/http/liveState.ts';
import { MAX_MESSAGE_BYTES, type ServerMessage } from '../protocol/signaling.ts';

/**
 * The WebSocket gateway's management side, as API Gateway exposes it (@connections): media
 * nodes and functions push responses and events to a connection, or close it.
 */
export interface ConnectionGateway {
  /**
   * False when the connection is gone (API Gateway's 410). Rejects with MessageTooLargeError
   * when the message is over the gateway's frame limit (413), and with the failure otherwise.
   */
  post(connectionId: string, message: ServerMessage): Promise<boolean>;
  disconnect(connectionId: string): Promise<void>;
}

/** The gateway refused a message over its frame limit (API Gateway's 413); nothing was sent. */
export class MessageTooLargeError extends TesseraError {
  constructor(bytes?: number) {
    super(ErrorCodes.unexpected, 'message too large', {
      details: { ...(bytes !== undefined ? { bytes } : {}), limit: MAX_MESSAGE_BYTES },
    });
  }
}

/** Which room, participant and media node a WebSocket connection belongs to. */
export interface ConnectionRecord {
  connectionId: string;
  /** The room's key (`<serviceId>/<roomId>`, see shared/protocol/http/roomKey.ts). */
  roomId: string;
  nodeId: string;
  /** Who joined, from the redeemed join token. */
  participant: { id: string; user: string; role: string; permission: Permission };
  /** The id of the participant's current resume ticket (ResumeTickets), once it has logged in. */
  ticket?: string;
  /** Connected with that ticket: its first login must take it (single use) and resumes the session. */
  resuming?: boolean;
}

export interface ConnectionStore {
  put(record: ConnectionRecord): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  delete(connectionId: string): Promise<void>;
}

/**
 * Close codes of a client that meant to leave: normal closure, going away (a page unloading),
 * and a close frame without a code. A dropped network ends with 1006 (no close frame), and the
 * SDK closes a socket it replaces with its own 4000s.
 */
export const GOODBYE_CODES = new Set([1000, 1001, 1005]);
