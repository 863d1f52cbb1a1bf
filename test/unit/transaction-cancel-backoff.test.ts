/**
 * A work message's batched claims and entries are one DynamoDB transaction each; DynamoDB cancels
 * one with no condition refused when throttling (`ThrottlingError`) or a racing transaction
 * (`TransactionConflict`) held it back, which the adapter answers as `{ refused: [] }`. The SDK
 * does not retry a cancellation, so the batch is written again after a short random pause, not at
 * once.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import type { FreshKeyClaim } from '#domain/model/manifest.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { jpegBytes, photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;

/** Cancels the first batch of claims and the first batch of entries as throttling does. */
class ThrottledTransactionsStore extends InMemorySyncStateStore {
  readonly calls: string[] = [];
  #claimsThrottled = false;
  #entriesThrottled = false;
  override async claimFreshKeys(claims: readonly FreshKeyClaim[]) {
    this.calls.push('claimFreshKeys');
    if (!this.#claimsThrottled) {
      this.#claimsThrottled = true;
      return { refused: [] };
    }
    return super.claimFreshKeys(claims);
  }
  override async putEntries(writes: Parameters<InMemorySyncStateStore['putEntries']>[0]) {
    this.calls.push('putEntries');
    if (!this.#entriesThrottled) {
      this.#entriesThrottled = true;
      return { refused: [] };
    }
    return super.putEntries(writes);
  }
}

describe('a transaction cancelled by throttling', () => {
  it('is written again after a pause, claims and entries alike', async () => {
    const state = new ThrottledTransactionsStore({ now: () => NOW });
    const cdn = new ScriptedCdn();
    const slept: { ms: number; after: string }[] = [];
    const deps: ArchiveDeps = {
      state,
      objects: new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE }),
      downloader: cdn,
      refresh: async () => ({ assets: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => NOW,
      sleep: async (ms) => void slept.push({ ms, after: state.calls.at(-1) ?? '' }),
    };
    const message: WorkMessage = {
      v: WORK_MESSAGE_VERSION,
      runId: 'run-1',
      issuedAt: NOW,
      items: Array.from({ length: 4 }, (_, i) => {
        cdn.files.set(`https://cdn.test/photo-${i}`, jpegBytes(100 + i, i));
        return { type: 'asset' as const, asset: photoAsset(`photo-${i}`, 100 + i) };
      }),
    };

    const result = await processWorkMessage(deps, message);

    expect(result.archived).toBe(4);
    expect(state.calls.filter((c) => c === 'claimFreshKeys')).toHaveLength(2);
    expect(state.calls.filter((c) => c === 'putEntries')).toHaveLength(2);
    expect(slept.map((s) => s.after)).toEqual(['claimFreshKeys', 'putEntries']);
    for (const { ms } of slept) expect(ms).toBeGreaterThan(0);
  });
});
