import { PermissionError } from '../../shared/errors.ts';
import { type NodeState, nodeState } from '../../shared/placement/nodeHealth.ts';
import type { DeadLetterInbox } from '../../shared/ports/commands.ts';
import type { NodeRegistry, NodeReport } from '../../shared/ports/nodes.ts';
import type { Caller } from './ServiceRegistry.ts';

export interface NodeView extends NodeReport {
  state: NodeState;
}

/**
 * A dead-lettered command as an operator sees it: what it was and why it failed, not its body
 * (a streaming command's URL may carry a stream key).
 */
export interface DeadLetterView {
  nodeId?: string;
  reason?: string;
  at?: string;
  type?: string;
  roomId?: string;
  commandId?: string;
}

/** The media nodes, as the cluster sees them, and the commands they gave up on (super service only). */
export class NodeService {
  readonly #registry: NodeRegistry;
  readonly #deadLetters: DeadLetterInbox;

  constructor(registry: NodeRegistry, deadLetters: DeadLetterInbox) {
    this.#registry = registry;
    this.#deadLetters = deadLetters;
  }

  async deadLetters(caller: Caller, max: number): Promise<DeadLetterView[]> {
    if (!caller.isSuper) throw new PermissionError('only the super service sees the cluster');
    return (await this.#deadLetters.peekDeadLetters(max)).map((d) => {
      const command = commandFields(d.body);
      return {
        ...(d.nodeId ? { nodeId: d.nodeId } : {}),
        ...(d.reason ? { reason: d.reason } : {}),
        ...(d.at ? { at: new Date(d.at).toISOString() } : {}),
        ...command,
      };
    });
  }

  async list(caller: Caller): Promise<NodeView[]> {
    if (!caller.isSuper) throw new PermissionError('only the super service sees the cluster');
    const now = Date.now();
    // Nodes seen in the last minute, so a node that just stopped reporting is visible as stale.
    const reports = await this.#registry.fresh(60_000);
    return reports
      .map((r) => ({ ...r, state: nodeState(r, now) }) satisfies NodeView)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/** The naming fields of a command body, when it is the JSON object a command is (else none). */
function commandFields(body: string): Pick<DeadLetterView, 'type' | 'roomId' | 'commandId'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const field = (key: string) => {
    const v = (parsed as Record<string, unknown>)[key];
    return typeof v === 'string' && v.length <= 200 ? v : undefined;
  };
  const [type, roomId, commandId] = [field('type'), field('roomId'), field('id')];
  return { ...(type ? { type } : {}), ...(roomId ? { roomId } : {}), ...(commandId ? { commandId } : {}) };
}
