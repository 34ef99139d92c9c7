/** What a media node reports about itself every second (docs/architecture.md, "Media node reports"). */
export interface NodeReport {
  id: string;
  /** Rooms hosted, and workers alive / total. */
  rooms: number;
  workers: number;
  workersAlive: number;
  /**
   * 0..1: the busiest worker's share of its core, plus the node's share of CPU used by pipelines
   * (ffmpeg) over the last interval.
   */
  load: number;
  draining: boolean;
  reportedAt: number;
  /** Where the node is, for join-token preferences (OWT's isp/region). */
  region?: string | undefined;
  isp?: string | undefined;
  /** What the node can do: 'sfu', and later 'mix', 'stream', 'record', 'sip'. */
  capabilities: string[];
  /** Pipe links to other nodes in use (rooms spanning nodes). */
  pipes?: number;
  /** Media pipelines running (transcodes, mixers, recordings, streaming). */
  pipelines?: number;
  /** Cores their ffmpeg processes used over the last interval (1 = one full core). */
  pipelineCpu?: number;
  /** Where encoders push to the node's RTMP ingest (a stream key after it), when it runs one. */
  rtmpIngestUrl?: string;
}

export interface NodeRegistry {
  report(report: NodeReport): Promise<void>;
  /** Nodes whose last report is at most `maxAgeMs` old. */
  fresh(maxAgeMs: number): Promise<NodeReport[]>;
  /** The router RTP capabilities every node of this build offers (clients load them before joining). */
  setRtpCapabilities(capabilities: unknown): Promise<void>;
  rtpCapabilities(): Promise<unknown | undefined>;
}
