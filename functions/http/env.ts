import type { Caller } from '../services/ServiceRegistry.ts';

/** Per-request values routes read from the context. */
export type ApiEnv = { Variables: { caller: Caller } };
