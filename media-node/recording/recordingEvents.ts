import { newEvent, type RecordingReport } from '../../shared/protocol/events.ts';
import { parseRoomKey } from '../../shared/protocol/http/roomKey.ts';
import type { RoomEvents } from '../events/RoomEvents.ts';
import type { Pipelines } from '../pipelines/Pipelines.ts';
import { Recorder } from './Recorder.ts';

/**
 * Recordings' own events, for their REST records and webhooks: `recording.started` at the first
 * frame, `recording.ended` or `recording.failed` once the last part is stored, with what it wrote.
 */
export function followRecordings(pipelines: Pipelines, events: RoomEvents): void {
  pipelines.on('pipelinecreated', (pipeline) => {
    if (pipeline instanceof Recorder) follow(pipeline, events);
  });
}

function follow(recorder: Recorder, events: RoomEvents): void {
  const { serviceId, roomId } = parseRoomKey(recorder.roomId);
  const report = (reason?: string): RecordingReport => {
    const info = recorder.info;
    return {
      id: recorder.id,
      container: info.container,
      bytes: info.bytes,
      durationMs: info.durationMs,
      files: info.stored.slice(0, 100).map(({ key, bytes, location }) => ({ key, bytes, location })),
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
    };
  };
  const emit = (type: 'recording.started' | 'recording.ended' | 'recording.failed', reason?: string) =>
    events.publish(
      newEvent(type, { serviceId, roomId, nodeId: events.nodeId, data: { recording: report(reason) } }),
    );
  let ending: { type: 'recording.ended' | 'recording.failed'; reason: string } | undefined;
  // Its observer: a throwing listener here must not break the pipeline (mediasoup's idiom).
  recorder.observer.on('started', ({ restarts }) => {
    if (restarts === 0) emit('recording.started');
  });
  recorder.observer.on('failed', ({ reason }) => {
    ending = { type: 'recording.failed', reason };
  });
  recorder.observer.on('ended', ({ reason }) => {
    ending = { type: 'recording.ended', reason };
  });
  void recorder.finished.then(() => emit(ending?.type ?? 'recording.ended', ending?.reason));
}
