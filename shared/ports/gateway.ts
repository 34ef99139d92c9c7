import type { Permission } from '../protocol/http/liveState.ts';
import type { ServerMessage } from '../protocol/signaling.ts';

/**
 * The WebSocket gateway's management side, as API Gateway exposes it (@connections): media
 * nodes and functions push responses and events to a connection, or close it.
 */
export interface ConnectionGateway {
  /** False when the connection is gone (API Gateway's 410). */
  post(connectionId: string, message: ServerMessage): Promise<boolean>;
  disconnect(connectionId: string): Promise<void>;
}

/** Which room, participant and media node a WebSocket connection belongs to. */
export interface ConnectionRecord {
  connectionId: string;
  roomId: string;
  /** The service owning the room, and when the room was created: a login checks both still hold. */
  serviceId: string;
  roomCreatedAt: string;
  nodeId: string;
  /** Who joined, from the redeemed join token. */
  participant: { id: string; user: string; role: string; permission: Permission };
}

export interface ConnectionStore {
  put(record: ConnectionRecord): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  delete(connectionId: string): Promise<void>;
}
