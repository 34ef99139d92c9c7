import type { StreamPatchOp } from '../../shared/protocol/commands.ts';
import type { ResolvedView } from '../../shared/protocol/mcu.ts';

/** One region of a mixed stream's layout, as REST's `/info/layout` gives it (checked against the view). */
export type LayoutEntry = Extract<StreamPatchOp, { path: '/info/layout' }>['value'][number];

/**
 * The seam between the control plane's commands and the host's mixers (media-node/mcu), so
 * that each side can be written against it. The control plane guarantees, before a command
 * reaches the host:
 *
 * - `views.configure {roomId, views}`: sent to the room's host once per placement decision
 *   (first placement, a move after failover or drain; before the first login placed there) and
 *   whenever the room's views change over REST. It can arrive before the room is open on the
 *   node, and a room closes when empty and reopens with the same placement (no new command):
 *   the handler keeps the latest views per room id for the node's life (dropped on `room.close`)
 *   and applies them with `room.setViews(views)` when the room opens (RoomRegistry
 *   `roomcreated`) and at once when it is open. StreamRecords reads `room.views()` (a new
 *   publication's `inViews`, a mixed stream's video parameters).
 * - `stream.control {roomId, streamId, ops}` with `/info/inViews` or `/info/layout…` ops: sent to
 *   the room's host only, already checked by the control plane (the view exists; a layout's
 *   regions exist or carry an area; its streams are live, forward and mixed into the view; at
 *   most `maxInput`). The stream record is already updated. The handler turns each op into one
 *   call below. Signaling's `stream.mix` (the SDK's mix/unmix) becomes the same command.
 *
 * A mixer announces its tracks with `room.addStream(producer, {…, type: 'mixed', label,
 * publication: mixedStreamId(label), layout, activeInput}, {kind: 'pipeline', pipelineId})` and
 * changes with `room.updateStream(trackId, {layout?, activeInput?})`: the stream record and the
 * peers follow.
 */
export interface MixControl {
  /** The room's views (`views.configure`): mixers start, change or stop to match. */
  configure(roomId: string, views: readonly ResolvedView[]): void;
  /** A forward stream into (`add`) or out of (`remove`) a view's mix. Unknown room/view/stream: no-op. */
  setInViews(roomId: string, streamId: string, view: string, op: 'add' | 'remove'): void;
  /** A mixed stream's whole layout (`/info/layout`), or one region's stream (`region` index). */
  setLayout(roomId: string, mixedStreamId: string, layout: LayoutEntry[]): void;
  setRegionStream(roomId: string, mixedStreamId: string, region: number, streamId: string): void;
}
