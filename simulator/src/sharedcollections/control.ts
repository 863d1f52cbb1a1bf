/**
 * The new-generation Shared Albums' part of the control API (paths relative to `/__sim`):
 *
 *   GET  /sharedcollections         -> ground truth: every album zone (deleted ones flagged), its
 *                                      owner, participants, who left, and its live items
 *   POST /sharedcollections/mutate  -> {op, ...} (createAlbum, deleteAlbum, addItems, removeItem,
 *                                      leave); 400 {error} when inapplicable
 *
 * Returns undefined for any other path.
 */
import { json, type SimReply, type SimRequest } from '../types.ts';
import { CollectionMutationError, type SharedCollections } from './service.ts';

export function handleSharedCollectionsControl(
  req: SimRequest,
  collections: SharedCollections,
): SimReply | undefined {
  const path = req.path.replace(/\/+$/, '');
  const method = req.method.toUpperCase();
  if (path === '/sharedcollections' && method === 'GET') return json(collections.groundTruth());
  if (path === '/sharedcollections/mutate' && method === 'POST') {
    try {
      return json(collections.mutate(req.json));
    } catch (error) {
      if (error instanceof CollectionMutationError) return json({ error: error.message }, 400);
      throw error;
    }
  }
  return undefined;
}
