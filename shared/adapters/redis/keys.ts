/**
 * Redis key layout (docs/architecture.md, "State layout", mirrors this). Every key of a room
 * carries the room key (`<serviceId>/<roomId>`) in a hash tag, {roomId}, so a Redis Cluster keeps a room's keys in one
 * slot and multi-key scripts stay possible.
 *
 *   tessera:room:{<roomId>}:participants   hash  participantId → Participant JSON   TTL 24 h, renewed on write
 *   tessera:room:{<roomId>}:streams        hash  streamId → Stream JSON             TTL 24 h, renewed on write
 *   tessera:room:{<roomId>}:streaming-outs hash  id → StreamingOut JSON               TTL 24 h, renewed on write
 *   tessera:room:{<roomId>}:node           string  id of the media node hosting the room
 *   tessera:room:{<roomId>}:nodes          hash    nodeId → participants of the room on it (a room may span nodes)
 *   tessera:room:{<roomId>}:lock           string  placement lock token (SET NX PX, compare-and-delete)
 *   tessera:room:{<roomId>}:fence          counter fencing token, incremented by every placement write
 *   tessera:room:{<roomId>}:version        string  the room record's change token (random, new on every write), 7 d
 *   tessera:token:<tokenId>                string  "1" until the join token is redeemed (GETDEL) or expires
 *   tessera:conn:<connectionId>            string  connection record (room, node, participant), 3 h
 *   tessera:cmd:<commandId>                string  set NX when a node processes a command, 1 h
 *   tessera:nodes                          zset    node ids by last report time
 *   tessera:node:<nodeId>                  string  capacity report, 10 s, renewed every second
 *   tessera:rtp-capabilities               string  router RTP capabilities for clients
 *   tessera:nonce:<hash>                   string  set NX when an MAuth nonce is first used, for the skew window
 *   tessera:rate:<key>:<window>            counter requests in one fixed rate-limit window, expires with it
 *   tessera:departures                     zset    <roomId>\n<participantId> by due time: departures no live node holds (a cut session whose node died)
 *   tessera:departures:nodes               hash    the same member → {nodeId, version}: the node it was counted on, the record version then
 *   tessera:resume:<hash>                  string  resume ticket (room, node, participant) by the hash of its secret; single use (GETDEL)
 *   tessera:resume:<hash>:claimed-by       string  the connection whose login claimed the ticket (its retries may claim it again), with the ticket's expiry
 */
export const ROOM_STATE_TTL_MS = 24 * 60 * 60 * 1000;

export const redisKeys = {
  participants: (roomId: string) => `tessera:room:{${roomId}}:participants`,
  streams: (roomId: string) => `tessera:room:{${roomId}}:streams`,
  streamingOuts: (roomId: string) => `tessera:room:{${roomId}}:streaming-outs`,
  roomNode: (roomId: string) => `tessera:room:{${roomId}}:node`,
  roomLock: (roomId: string) => `tessera:room:{${roomId}}:lock`,
  roomNodes: (roomId: string) => `tessera:room:{${roomId}}:nodes`,
  roomFence: (roomId: string) => `tessera:room:{${roomId}}:fence`,
  roomVersion: (roomId: string) => `tessera:room:{${roomId}}:version`,
  token: (tokenId: string) => `tessera:token:${tokenId}`,
};

/** Cluster-wide keys (see docs/architecture.md, "State layout"). */
export const clusterKeys = {
  connection: (connectionId: string) => `tessera:conn:${connectionId}`,
  command: (commandId: string) => `tessera:cmd:${commandId}`,
  nodes: 'tessera:nodes',
  node: (nodeId: string) => `tessera:node:${nodeId}`,
  rtpCapabilities: 'tessera:rtp-capabilities',
  nonce: (hash: string) => `tessera:nonce:${hash}`,
  rate: (key: string, window: number) => `tessera:rate:${key}:${window}`,
  resume: (hash: string) => `tessera:resume:${hash}`,
  resumeClaim: (hash: string) => `tessera:resume:${hash}:claimed-by`,
  departures: 'tessera:departures',
  departureNodes: 'tessera:departures:nodes',
  reply: (id: string) => `tessera:reply:${id}`,
};
