/**
 * The library's part of the simulator-only control API (paths relative to `/__sim`):
 *
 *   GET  /library[?sha256=false]  -> { assets: [...] }  every asset with its versions and digests
 *   GET  /library/albums          -> { albums: [...] }  every album and folder with its members in order
 *   POST /mutate   {op, ...}      -> { op, assets, updated, changed }  (400 { error } if inapplicable)
 *   GET  /quirks                  -> the quirk switches
 *   POST /quirks   {...}          -> merges (or `{"reset": true, ...}` resets first), returns them
 *
 * Returns undefined for any other path so the core control router can answer it.
 */
import { json, type SimReply, type SimRequest } from '../types.ts';
import { MutationError, type SimLibrary } from './library.ts';
import { DEFAULT_QUIRKS, quirksPatchSchema } from './quirks.ts';

export async function handleLibraryControl(
  req: SimRequest,
  library: SimLibrary,
): Promise<SimReply | undefined> {
  const method = req.method.toUpperCase();
  const path = req.path.replace(/^\/__sim/, '').replace(/\/+$/, '');
  if (path === '/library' && method === 'GET') {
    const sha256 = req.query.get('sha256')?.toLowerCase() !== 'false';
    return json(await library.groundTruth({ sha256 }));
  }
  if (path === '/library/albums' && method === 'GET') return json(library.albumsTruth());
  if (path === '/mutate' && method === 'POST') {
    try {
      return json(await library.mutate(req.json));
    } catch (error) {
      if (error instanceof MutationError) return json({ error: error.message }, 400);
      throw error;
    }
  }
  if (path === '/quirks' && method === 'GET') return json(library.quirks);
  if (path === '/quirks' && method === 'POST') {
    const parsed = quirksPatchSchema.safeParse(req.json ?? {});
    if (!parsed.success) {
      return json(
        {
          error: `invalid quirks: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        },
        400,
      );
    }
    const { reset, ...patch } = parsed.data;
    library.quirks = { ...(reset ? DEFAULT_QUIRKS : library.quirks), ...patch };
    return json(library.quirks);
  }
  return undefined;
}
