import { RoomRegistry } from '../../media-node/sfu/RoomRegistry.ts';
import { WorkerPool } from '../../media-node/workers/WorkerPool.ts';
import type { Logger } from '../../shared/logger.ts';

/**
 * A media node's room side on one real mediasoup worker, for integration tests of what runs on
 * rooms (pipelines, mixers, recorders): rooms stay open when empty (the test closes them),
 * unless the test gives the node's grace before an empty room closes.
 */
export async function roomsOnWorker(
  logger: Logger,
  emptyRoomGraceMs = 600_000,
): Promise<{ pool: WorkerPool; rooms: RoomRegistry }> {
  const pool = await WorkerPool.create({ size: 1, logger });
  const rooms = new RoomRegistry(pool, { listenIp: '127.0.0.1', emptyRoomGraceMs }, logger, {
    producersPerParticipant: 8,
    dataProducersPerParticipant: 8,
    consumersPerParticipant: 8,
  });
  await rooms.start();
  return { pool, rooms };
}
