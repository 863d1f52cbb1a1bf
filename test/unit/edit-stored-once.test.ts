/**
 * Audit 13 (a photo's life): two edits of one photo whose work items meet out of order. The newest
 * edit must stay the photo's current `adjusted` object, and each edit's bytes must be stored once.
 */
import { describe, expect, it } from 'vitest';
import { viewItem } from '#domain/albums/album-view.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Asset, AssetVersion } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const T0 = 1_750_000_000_000;
const MIN = 60_000;
const base = photoAsset('p', 200);
const ref = { zone: base.zone, assetRecordName: base.assetRecordName };

function editOf(checksum: string): AssetVersion {
  return {
    kind: 'adjusted',
    resourceField: 'resJPEGFullRes',
    size: 100,
    fileChecksum: checksum,
    uti: 'public.jpeg',
    downloadUrl: `https://cdn.test/${checksum}`,
  };
}

const edited = (tag: string, checksum: string): Asset => ({
  ...base,
  assetChangeTag: tag,
  adjustmentType: 'com.apple.photo',
  versions: [...base.versions, editOf(checksum)],
});

/** A state store whose next `failNext` entry writes fail (a worker dying before its entry is written). */
class DyingStateStore extends InMemorySyncStateStore {
  failNext = 0;
  /** Runs once before the next entry write (another worker writing first). */
  before: (() => Promise<void>) | undefined;
  async #before() {
    const run = this.before;
    this.before = undefined;
    await run?.();
  }
  override async putEntry(...args: Parameters<InMemorySyncStateStore['putEntry']>) {
    await this.#before();
    if (this.failNext > 0) {
      this.failNext--;
      throw new UnexpectedResponseError('the state table did not answer: the entry was not written');
    }
    return super.putEntry(...args);
  }
  override async putEntries(...args: Parameters<InMemorySyncStateStore['putEntries']>) {
    await this.#before();
    if (this.failNext > 0) {
      this.failNext--;
      throw new UnexpectedResponseError('the state table did not answer: the entry was not written');
    }
    return super.putEntries(...args);
  }
}

function setUp() {
  let now = T0;
  const state = new DyingStateStore({ now: () => now });
  const objects = new InMemoryObjectStore({ now: () => now });
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
    deletePolicy: 'keep',
    now: () => now,
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

const message = (issuedAt: number, asset: Asset): WorkMessage => ({
  v: WORK_MESSAGE_VERSION,
  runId: `run-${issuedAt}`,
  issuedAt,
  items: [{ type: 'asset', asset }],
});

describe('audit13: two edits whose work meets out of order', () => {
  it('the first edit delivered after the second becomes the current edit in the views', async () => {
    const { deps, state, at } = setUp();
    await processWorkMessage(deps, message(T0, base));
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));
    at(T0 + 32 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));

    const entry = await state.getEntry(ref);
    const e2 = entry?.versions.find((v) => v.fileChecksum === 'E2')?.key;
    // iCloud's current edit is E2: the album view names it as the photo's `adjusted`.
    expect(entry === undefined ? undefined : viewItem(entry)?.versions.adjusted).toBe(e2);
  });

  it('an edit whose worker died after storing it is stored a second time by its retry', async () => {
    const { deps, state, objects, cdn, at } = setUp();
    await processWorkMessage(deps, message(T0, base));
    // Run 2: edit E1. The worker stores it, then dies before the entry is written.
    at(T0 + 16 * MIN);
    state.failNext = 100;
    await expect(processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')))).rejects.toThrow();
    state.failNext = 0;
    // Run 3: edited again (E2), done at once.
    at(T0 + 31 * MIN);
    await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));
    // The run-2 message comes back (its URLs still young enough not to be looked up again).
    at(T0 + 40 * MIN);
    await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));

    const edits = await state.getEntry(ref);
    const listed = edits?.versions.filter((v) => v.kind === 'adjusted').map((v) => v.key);
    const stored = objects.keys().filter((key) => key.includes('-edited'));
    // Each edit stored once, and every stored edit listed: E1 and E2.
    expect({ e1Downloads: cdn.opened.filter((url) => url.endsWith('/E1')).length, stored }).toEqual({
      e1Downloads: 1,
      stored: [...(listed ?? [])].sort(),
    });
  });
  it('two workers at once, no crash: the edit whose entry write lost the race is stored a second time', async () => {
    const { deps, state, objects, cdn, at } = setUp();
    await processWorkMessage(deps, message(T0, base));
    at(T0 + 31 * MIN);
    // Run 2's message (edit E1) has stored E1; just before its entry write, run 3's message
    // (edit E2, in another worker) writes its entry.
    state.before = async () => {
      await processWorkMessage(deps, message(T0 + 30 * MIN, edited('a3', 'E2')));
    };
    await processWorkMessage(deps, message(T0 + 15 * MIN, edited('a2', 'E1')));

    const listed = (await state.getEntry(ref))?.versions
      .filter((v) => v.kind === 'adjusted')
      .map((v) => v.key);
    const stored = objects.keys().filter((key) => key.includes('-edited'));
    expect({ e1Downloads: cdn.opened.filter((url) => url.endsWith('/E1')).length, stored }).toEqual({
      e1Downloads: 1,
      stored: [...(listed ?? [])].sort(),
    });
  });
});
