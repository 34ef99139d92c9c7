import type { Logger } from '../../shared/logger.ts';
import type { CommandBus } from '../../shared/ports/commands.ts';
import type { RoomNodes } from '../../shared/ports/live.ts';
import type { NodeRegistry } from '../../shared/ports/nodes.ts';
import type { NodeCommand } from '../../shared/protocol/commands.ts';
import type { RoomRegistry, RtcOptions } from '../sfu/RoomRegistry.ts';
import { RoomCascade } from './RoomCascade.ts';

type PipeCommand = Parameters<RoomCascade['handle']>[0];

/**
 * A node whose last report is older than this is gone for the cascade: longer than placement's
 * 3 s, since forgetting a node that is only slow (a busy machine) costs its streams a re-pipe.
 */
const FRESH_MS = 10_000;
/** How often the nodes the cascades link with are checked for life. */
const WATCH_MS = 2000;
/** How long a closing node waits for its goodbyes (pipe.leave) to go out. */
const FAREWELL_MS = 2000;

/** The cascade of every room on this node (rooms that may span nodes). */
export class Cascades {
  readonly #cascades = new Map<string, RoomCascade>();
  readonly #rooms: RoomRegistry;
  readonly #registry: NodeRegistry | undefined;
  readonly #farewells = new Set<Promise<void>>();
  readonly #watch: ReturnType<typeof setInterval> | undefined;
  #live: { at: number; nodes: Promise<Set<string> | undefined> } | undefined;

  constructor(options: {
    nodeId: string;
    rooms: RoomRegistry;
    roomNodes: RoomNodes;
    bus: CommandBus;
    rtc: RtcOptions;
    logger: Logger;
    /** The node registry: peers that stop reporting are forgotten. */
    registry?: NodeRegistry | undefined;
  }) {
    this.#rooms = options.rooms;
    this.#registry = options.registry;
    const liveNodes = () => this.#liveNodes();
    options.rooms.on('roomcreated', (room) => {
      const cascade = new RoomCascade({ ...options, room, liveNodes });
      this.#cascades.set(room.id, cascade);
      room.once('close', () => {
        this.#cascades.delete(room.id);
        const farewell = cascade.close();
        this.#farewells.add(farewell);
        void farewell.finally(() => this.#farewells.delete(farewell));
      });
      void cascade
        .start()
        .catch((error) => options.logger.warn('cascade start failed', { roomId: room.id, error }));
    });
    if (this.#registry) {
      // A peer node killed outright says nothing: its streams and participants here go once
      // it stops reporting.
      this.#watch = setInterval(() => {
        if (![...this.#cascades.values()].some((c) => c.peerNodes.length > 0)) return;
        void this.#liveNodes().then((live) => {
          if (live) for (const cascade of this.#cascades.values()) cascade.prune(live);
        });
      }, WATCH_MS);
      this.#watch.unref();
    }
  }

  /** Pipe links in use on this node. */
  get pipes(): number {
    return [...this.#cascades.values()].reduce((n, c) => n + c.pipes, 0);
  }

  /**
   * A command from another node of the room. A link offer or a request opens the room here (a
   * participant placed here may not have logged in yet); anything else for a room not open
   * here is from an earlier life of it and is dropped.
   */
  async handle(command: Extract<NodeCommand, PipeCommand>): Promise<void> {
    if (command.type === 'pipe.open' || command.type === 'pipe.request')
      await this.#rooms.open(command.roomId);
    await this.#cascades.get(command.roomId)?.handle(command);
  }

  /** Waits (briefly) for closed rooms' goodbyes to reach the other nodes; stops watching. */
  async close(): Promise<void> {
    clearInterval(this.#watch);
    await Promise.race([
      Promise.allSettled([...this.#farewells]),
      new Promise((r) => setTimeout(r, FAREWELL_MS).unref()),
    ]);
  }

  /** The nodes reporting now (read at most once a second), or undefined without a registry or when it fails. */
  #liveNodes(): Promise<Set<string> | undefined> {
    if (!this.#registry) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.#live || now - this.#live.at >= 1000) {
      this.#live = {
        at: now,
        nodes: this.#registry
          .fresh(FRESH_MS)
          .then((reports) => new Set(reports.map((r) => r.id)))
          .catch(() => undefined),
      };
    }
    return this.#live.nodes;
  }
}
