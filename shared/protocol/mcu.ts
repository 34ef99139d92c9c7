import { z } from 'zod';
import { ViewSchema } from './http/room.ts';

/**
 * The MCU's wire contract, shared by the control plane (which configures views) and the media
 * node (which mixes them). A room's views reach its host node with `views.configure`; each view
 * becomes one mixed stream (OWT `type: "mixed"`) whose id is stable for the room's life, across
 * mixer restarts: `mixedStreamId(label)`.
 */

/** The id of a view's mixed stream (its publication id; REST `…/streams/{id}`). */
export const mixedStreamId = (label: string): string => `mixed-${label}`;

/** A room's views as the media node gets them: OWT's view model with its defaults applied. */
export const ViewsSchema = z.array(ViewSchema).max(16);
export type ResolvedView = z.output<typeof ViewSchema>;
