/**
 * The `verify` run record `status` shows: a verify that could not finish says why (the error's
 * message, secrets scrubbed), not the error's class name.
 */
import { describe, expect, it } from 'vitest';
import { runVerify } from '#app/verify.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

describe('a verify that fails', () => {
  it('records the failure message in its run, not the class name', async () => {
    const state = new InMemorySyncStateStore();
    const failure = new TypeError('cannot reach p42-ckdatabasews.icloud.com (ENOTFOUND)');
    await expect(
      runVerify(
        {
          state,
          objects: new InMemoryObjectStore(),
          versionPolicy: DEFAULT_VERSION_POLICY,
          icloud: async () => {
            throw failure;
          },
        },
        { deep: false, etagsAreMd5: true },
      ),
    ).rejects.toBe(failure);
    const [run] = await state.listRuns(1);
    expect(run).toMatchObject({ kind: 'verify', outcome: 'failed' });
    expect(run?.message).toBe('cannot reach p42-ckdatabasews.icloud.com (ENOTFOUND)');
  });
});
