import type { IngressService } from './IngressService.ts';
import type { JoinTokens } from './JoinTokens.ts';
import type { ManagementAuth } from './ManagementAuth.ts';
import type { NodeService } from './NodeService.ts';
import type { ParticipantService } from './ParticipantService.ts';
import type { RecordingService } from './RecordingService.ts';
import type { RoomService } from './RoomService.ts';
import type { ServiceRegistry } from './ServiceRegistry.ts';
import type { StreamingInService } from './StreamingInService.ts';
import type { StreamingOutService } from './StreamingOutService.ts';
import type { StreamService } from './StreamService.ts';

/** The use cases behind the management API, wired by the composition root. */
export interface ManagementApi {
  auth: ManagementAuth;
  services: ServiceRegistry;
  rooms: RoomService;
  participants: ParticipantService;
  streams: StreamService;
  recordings: RecordingService;
  streamingOuts: StreamingOutService;
  streamingIns: StreamingInService;
  ingresses: IngressService;
  tokens: JoinTokens;
  nodes: NodeService;
}
