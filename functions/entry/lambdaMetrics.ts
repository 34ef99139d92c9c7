// EventBridge schedule (every minute) → one metric record for the alarms and media-node scaling.
import { loadConfig } from '../../shared/config/load.ts';
import { composeMetrics } from '../metrics/composeMetrics.ts';

export const handler = composeMetrics(loadConfig()).collect;
