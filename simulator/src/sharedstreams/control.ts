/**
 * The shared albums' part of the control API (paths relative to `/__sim`):
 *
 *   GET  /sharedstreams            -> ground truth: people, every album (deleted ones flagged), items
 *   POST /sharedstreams/mutate     -> {op, ...} (addAlbum, deleteAlbum, addItems, removeItem, leave,
 *                                     like, comment); 400 {error} when inapplicable
 *   GET  /sharedstreams/quirks     -> the switches
 *   POST /sharedstreams/quirks     -> merges a patch (`{"reset": true}` first restores the defaults)
 *
 * Returns undefined for any other path.
 */
import * as z from 'zod';
import { json, type SimReply, type SimRequest } from '../types.ts';
import {
  DEFAULT_SHARED_STREAMS_QUIRKS,
  SharedMutationError,
  type SharedStreams,
  sharedStreamsQuirksSchema,
} from './service.ts';

const QuirksPatch = sharedStreamsQuirksSchema.partial().extend({ reset: z.boolean().optional() });

export function handleSharedStreamsControl(req: SimRequest, streams: SharedStreams): SimReply | undefined {
  const path = req.path.replace(/\/+$/, '');
  const method = req.method.toUpperCase();
  if (path === '/sharedstreams' && method === 'GET') return json(streams.groundTruth());
  if (path === '/sharedstreams/mutate' && method === 'POST') {
    try {
      return json(streams.mutate(req.json));
    } catch (error) {
      if (error instanceof SharedMutationError) return json({ error: error.message }, 400);
      throw error;
    }
  }
  if (path === '/sharedstreams/quirks' && method === 'GET') return json(streams.quirks);
  if (path === '/sharedstreams/quirks' && method === 'POST') {
    const patch = QuirksPatch.safeParse(req.json ?? {});
    if (!patch.success) {
      return json(
        { error: patch.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') },
        400,
      );
    }
    const { reset, ...rest } = patch.data;
    streams.quirks = { ...(reset ? DEFAULT_SHARED_STREAMS_QUIRKS : streams.quirks), ...rest };
    return json(streams.quirks);
  }
  return undefined;
}
