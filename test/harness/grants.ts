import { PERMISSIONS as P } from '../../infra/deployment.ts';

const all = (...lists: (readonly string[])[]) => lists.flat().sort();

/** Every action each part of the deployment should hold (sorted), the same in CDK and Terraform. */
export const GRANTS = {
  controlPlane: all(P.table, P.functionQueues, P.functionDeadLetters, P.secrets),
  signaling: all(P.table, P.functionQueues, P.functionDeadLetters, P.secrets, P.connections),
  connections: all(P.connections),
  mediaNode: all(
    P.nodeQueues,
    P.deadLetterQueue,
    P.eventsQueue,
    P.connections,
    P.release,
    P.recordingObjects,
    P.recordingBucket,
    P.lifecycle,
    P.secrets,
  ),
  webhooks: all(P.webhookTable, P.webhookQueue, P.secrets),
};
