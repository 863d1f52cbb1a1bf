/**
 * One photo `p` whose edits E1 and E2 arrive over several runs, archived through
 * `processWorkMessage` over the in-memory fakes with a clock the test moves: the setting of the
 * tests about a photo's changes done out of order or twice (older-work-after-newer,
 * older-item-after-newer-state, edit-stored-once, reverted-edit-not-current).
 */
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import type { Asset, AssetVersion } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

export const T0 = 1_750_000_000_000;
export const MIN = 60_000;
/** The photo, as first archived (its original alone). */
export const base = photoAsset('p', 200);
export const ref = { zone: base.zone, assetRecordName: base.assetRecordName };

/** A work message issued at `issuedAt` (the order of the state it carries). */
export const message = (issuedAt: number, items: WorkMessage['items']): WorkMessage => ({
  v: WORK_MESSAGE_VERSION,
  runId: `run-${issuedAt}`,
  issuedAt,
  items,
});

/** An edit whose bytes the CDN serves at `https://cdn.test/<checksum>`. */
export function editOf(checksum: string): AssetVersion {
  return {
    kind: 'adjusted',
    resourceField: 'resJPEGFullRes',
    size: 100,
    fileChecksum: checksum,
    uti: 'public.jpeg',
    downloadUrl: `https://cdn.test/${checksum}`,
  };
}

/** The photo with change tag `tag` and the edit `checksum` (E1 or E2). */
export const edited = (tag: string, checksum: string): Asset => ({
  ...base,
  assetChangeTag: tag,
  adjustmentType: 'com.apple.photo',
  versions: [...base.versions, editOf(checksum)],
});

/**
 * The archive's dependencies over the fakes, the CDN serving the original, E1 and E2; `state`
 * builds the state store (a subclass that fails or races its writes), given the clock.
 */
export function editedPhotoArchive<S extends InMemorySyncStateStore = InMemorySyncStateStore>(
  options: { state?: (now: () => number) => S; deletePolicy?: 'keep' | 'mirror' } = {},
) {
  let now = T0;
  const clock = () => now;
  const state = options.state?.(clock) ?? (new InMemorySyncStateStore({ now: clock }) as S);
  const objects = new InMemoryObjectStore({ now: clock });
  const cdn = new ScriptedCdn();
  cdn.files.set(base.versions[0]?.downloadUrl ?? '', jpegBytes(200, 3));
  cdn.files.set('https://cdn.test/E1', jpegBytes(100, 11));
  cdn.files.set('https://cdn.test/E2', jpegBytes(100, 22));
  const deps: ArchiveDeps = {
    state,
    objects,
    downloader: cdn,
    refresh: async () => ({ assets: [] }),
    versionPolicy: DEFAULT_VERSION_POLICY,
    deletePolicy: options.deletePolicy ?? 'keep',
    now: clock,
  };
  return {
    deps,
    state,
    objects,
    cdn,
    at: (t: number) => {
      now = t;
    },
  };
}
