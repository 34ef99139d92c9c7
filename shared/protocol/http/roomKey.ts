/**
 * Room ids are a service's own: two services may both have a room "standup". Everything below
 * the management API (durable and live state, placement, join tokens' redemption, media nodes,
 * commands) names a room by its key, `<serviceId>/<roomId>`, which no id of either part can forge
 * (neither may contain '/'). Only the REST layer speaks of the bare id.
 */
export function roomKey(serviceId: string, roomId: string): string {
  return `${serviceId}/${roomId}`;
}

/** The service and bare id of a room key. */
export function parseRoomKey(key: string): { serviceId: string; roomId: string } {
  const at = key.indexOf('/');
  return { serviceId: key.slice(0, at), roomId: key.slice(at + 1) };
}

/** Longest room key: a 64-character service id, '/', a 64-character room id. */
export const MAX_ROOM_KEY_LENGTH = 129;
