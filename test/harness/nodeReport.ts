import type { NodeReport } from '../../shared/ports/nodes.ts';

/** A healthy media node's capacity report, reported now unless overridden. */
export const nodeReport = (id: string, overrides: Partial<NodeReport> = {}): NodeReport => ({
  id,
  rooms: 0,
  workers: 2,
  workersAlive: 2,
  load: 0.1,
  draining: false,
  reportedAt: Date.now(),
  capabilities: ['sfu'],
  ...overrides,
});
