import type { ServerEvent } from '../../shared/protocol/signaling.ts';

/**
 * Where a participant's events go: its WebSocket today (signaling/GatewaySink.ts), a SIP dialog
 * or nothing at all later. The room speaks to participants only through this (LiveKit's
 * MessageSink), so it holds media state and never knows the transport of its signaling.
 */
export interface ParticipantSink {
  /** Delivers one event; false when it could not (the other end is gone). Never throws. */
  post(event: ServerEvent): Promise<boolean>;
  /** Ends the participant's signaling channel (its socket is cut). Idempotent, never throws. */
  close(reason?: string): Promise<void>;
}

/** A participant nobody listens to (a pipeline's, or one whose signaling is not attached yet). */
export const nullSink: ParticipantSink = {
  post: async () => false,
  close: async () => {},
};
