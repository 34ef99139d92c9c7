/**
 * Departures waiting to happen with nobody to make them: a participant whose WebSocket dropped
 * while its media node was dead keeps its place for the grace period (it may resume onto a live
 * node), but no node holds a timer for it. Any live node sweeps what falls due; a resume cancels.
 */
export interface PendingDeparture {
  roomId: string;
  participantId: string;
  /** The node it was counted on (counted down when it departs). */
  nodeId: string;
  /** The participant record's version then: a resume bumps it, and a changed record stays. */
  version: number;
}

export interface Departures {
  /** Schedules the departure for `dueAt` (ms since the epoch); a second schedule replaces the first. */
  schedule(departure: PendingDeparture, dueAt: number): Promise<void>;
  /** The participant came back: no departure. */
  cancel(roomId: string, participantId: string): Promise<void>;
  /** Takes up to `max` departures due by `now`: each is taken by exactly one caller. */
  takeDue(now: number, max: number): Promise<PendingDeparture[]>;
}
