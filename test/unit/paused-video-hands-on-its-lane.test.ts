/**
 * A paused video handed on in a new message takes the rest of its lane with it: an album
 * membership after it (the same asset, the same delta) ran while the entry did not exist yet
 * (`unknownAsset`), so it must go on with the video, as a redelivery of the whole message would
 * have carried it (finding 49).
 */
import { describe, expect, it } from 'vitest';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { TransferPausedError } from '#domain/errors.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import type { WorkQueue } from '#ports/work-queue.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const T0 = 1_750_000_000_000;

describe('a paused video handed on', () => {
  it('keeps the album membership that followed it in its lane', async () => {
    const asset = photoAsset('v', 200);
    const url = asset.versions[0]?.downloadUrl ?? '';
    let now = T0;
    const state = new InMemorySyncStateStore({ now: () => now });
    const objects = new InMemoryObjectStore({ now: () => now });
    const cdn = new ScriptedCdn();
    cdn.files.set(url, () => new TransferPausedError('paused at the deadline', 100));
    const sent: WorkMessage[] = [];
    const continuation = {
      enqueue: async (messages: readonly WorkMessage[]) => {
        sent.push(...messages);
        return {} as never;
      },
    } as unknown as WorkQueue;
    const deps: ArchiveDeps = {
      state,
      objects,
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => now,
      continuation,
    };
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'run-1',
      issuedAt: T0,
      items: [
        { type: 'asset', asset },
        {
          type: 'albumMembership',
          zone: asset.zone,
          assetRecordName: asset.assetRecordName,
          albumRecordName: 'album-A',
          present: true,
        },
        // Another asset's lane, done in this message: not sent again.
        {
          type: 'albumMembership',
          zone: asset.zone,
          assetRecordName: 'other',
          albumRecordName: 'album-A',
          present: true,
        },
      ],
    };
    const first = await processWorkMessage(deps, message);
    expect(first.continued).toBe(1);
    expect(sent.map((m) => m.items.map((item) => item.type))).toEqual([['asset', 'albumMembership']]);
    // The video goes on (and finishes) in the continuation.
    cdn.files.set(url, jpegBytes(200, 3));
    now = T0 + 1_000;
    for (const next of sent) await processWorkMessage(deps, next);

    const entry = await state.getEntry({ zone: asset.zone, assetRecordName: asset.assetRecordName });
    expect({ status: entry?.status, albums: entry?.albums }).toEqual({
      status: 'archived',
      albums: ['album-A'],
    });
  });
});
