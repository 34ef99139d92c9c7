import { resolve } from 'node:path';
import { ApiGatewayConnections } from '../shared/adapters/apigw/ApiGatewayConnections.ts';
import { type Adapters, adaptersFor, blobStoreFor } from '../shared/adapters/select.ts';
import type { Config } from '../shared/config/schema.ts';
import { ConfigError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { EventSink } from '../shared/ports/events.ts';
import type { ConnectionGateway } from '../shared/ports/gateway.ts';
import type { RoomNodes } from '../shared/ports/live.ts';
import type { NodeRegistry } from '../shared/ports/nodes.ts';
import { type NodeCapability, offeredCapabilities } from './ffmpeg/capabilities.ts';
import { MediaNode } from './MediaNode.ts';
import { transcoderKind } from './mcu/Transcoder.ts';
import { NodeMetrics } from './metrics/registry.ts';
import { serveMetrics } from './metrics/server.ts';
import { PipelineCpuMeter } from './pipelines/PipelineCpuMeter.ts';
import { recorderKind } from './recording/Recorder.ts';
import { recoverRecordings } from './recording/RecordingRecovery.ts';
import { rtmpIngestKind } from './streaming/RtmpIngest.ts';
import { RtmpIngestServer } from './streaming/RtmpIngestServer.ts';
import { streamingInKind } from './streaming/StreamingIn.ts';
import { streamingOutKind } from './streaming/StreamingOut.ts';

/**
 * Composition root of a standalone media node (local cluster, EC2): commands from its SQS
 * queue, state in Redis, replies through the WebSocket API's @connections endpoint.
 */
export async function composeMediaNode(
  config: Config,
  logger: Logger,
): Promise<{ node: MediaNode; close(): Promise<void> }> {
  if (!config.wsManagementEndpoint) throw new ConfigError('set WS_MANAGEMENT_ENDPOINT for a media node');
  const adapters = adaptersFor(config, logger);
  const gateway = new ApiGatewayConnections(config.wsManagementEndpoint);
  const metrics = new NodeMetrics({ nodeId: config.nodeId });
  const node = await startMediaNode(config, adapters, gateway, logger, { metrics });
  const { port, host } = config.metrics;
  const scrape = port ? await serveMetrics(metrics, { host, port, logger }) : undefined;
  if (scrape) logger.info('metrics served', { url: scrape.url });
  return {
    node,
    async close() {
      await scrape?.close();
      await node.close();
      gateway.close();
      await adapters.close();
    },
  };
}

/**
 * A media node over the given adapters; it reports its capacity when `adapters.nodes` is set,
 * publishes to `adapters.events` when given, and feeds `metrics` when given.
 */
export async function startMediaNode(
  config: Config,
  adapters: Pick<Adapters, 'commands' | 'ledger' | 'streams' | 'participants' | 'departures' | 'replies'> & {
    nodes: NodeRegistry | undefined;
    roomNodes: RoomNodes | undefined;
    events?: EventSink | undefined;
  },
  gateway: ConnectionGateway,
  logger: Logger,
  extras: { metrics?: NodeMetrics | undefined } = {},
): Promise<MediaNode> {
  // NODE_CAPABILITIES: what the node does not offer, it does not run either.
  const offers = (c: NodeCapability) => !config.capabilities || config.capabilities.includes(c);
  const rtmpIngest =
    config.rtmpIngest && offers('stream') ? await startRtmpIngest(config, logger) : undefined;
  const recordings = { dir: resolve(config.recordingsDir), blobs: blobStoreFor(config) };
  const node = await MediaNode.start({
    nodeId: config.nodeId,
    workers: config.media.workers,
    logger,
    gateway,
    commands: adapters.commands,
    ledger: adapters.ledger,
    streams: adapters.streams,
    participants: adapters.participants,
    departures: adapters.departures,
    registry: adapters.nodes,
    roomNodes: adapters.roomNodes,
    rtc: config.rtc,
    limits: config.limits,
    location: config.location,
    turn: config.turn,
    pipelineKinds: {
      ...(offers('mix') ? { transcode: transcoderKind } : {}),
      ...(offers('record') ? { record: recorderKind(recordings.dir, recordings.blobs) } : {}),
      ...(offers('stream')
        ? {
            'stream-out': streamingOutKind(),
            'stream-in': streamingInKind({ allowPrivateUrls: config.streaming.allowPrivateUrls }),
          }
        : {}),
      ...(rtmpIngest ? { 'rtmp-in': rtmpIngestKind(rtmpIngest.server) } : {}),
    },
    rtmpIngest,
    replies: adapters.replies,
    mcu: offers('mix'),
    capabilities: () => offeredCapabilities(config.capabilities),
    events: adapters.events,
    observers: extras.metrics?.observers,
  });
  if (rtmpIngest) logger.info('rtmp ingest listening', { url: rtmpIngest.url });
  // Recordings this node's previous life left running: stored and settled, in the background.
  void recoverRecordings({ ...recordings, events: adapters.events, nodeId: config.nodeId, logger });
  extras.metrics?.watch({ rooms: node.rooms, workers: node.workers });
  const pipelineCpu = new PipelineCpuMeter(() => node.pipelines.usage());
  extras.metrics?.setPipelineCpu(() => pipelineCpu.read().cores);
  return node;
}

/** The node's RTMP push ingest, listening, and the URL encoders are given (without the key). */
async function startRtmpIngest(
  config: Config,
  logger: Logger,
): Promise<{ server: RtmpIngestServer; url: string }> {
  const { port, host, url } = config.rtmpIngest!;
  const server = new RtmpIngestServer({ logger });
  await server.listen(port, host);
  return { server, url: url ?? `rtmp://${config.rtc.announcedAddress ?? host}:${server.port}/live` };
}
