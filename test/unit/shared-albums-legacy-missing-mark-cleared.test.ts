/**
 * `legacyServiceMissingAt` (docs/reliability.md finding 69) is set when the account, asked, lists
 * no legacy Shared Albums service. A session that gains the service another way (the person signs
 * in again: `login` stores `sharedstreamsUrl`) lists legacy albums with no lookup: the mark must
 * clear then, or `status` keeps saying those albums are not archived while they are (found by the
 * review of the merged change; failed before: `expected 1000000 to be undefined`).
 */
import { describe, expect, it } from 'vitest';
import type { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import { SharedStreamsSource } from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { sharedAlbumsStatus } from '#domain/shared-albums/shared-albums-status.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('the legacy service missing mark', () => {
  it('is cleared once the session lists the service (signed in again), not kept for good', async () => {
    // The session's service URL: none (stored by an older release), then one after `login`.
    let serviceUrl: string | undefined;
    const client = {
      get available() {
        return serviceUrl !== undefined;
      },
      albumsList: async () => [
        {
          albumguid: 'A',
          albumlocation: 'https://p101-sharedstreams.icloud.com:443/A/sharedstreams/',
          albumctag: '1',
          ownerdsid: '100',
          sharingtype: 'owned',
          attributes: { name: 'Lake' },
        },
      ],
    } as unknown as SharedStreamsClient;
    // The account question fails (or the account does not list it yet): remembered missing.
    const source = new SharedStreamsSource(client, async () => {
      throw new Error('accountLogin: 503');
    });
    const state = new InMemorySharedAlbumStateStore();
    let clock = 1_000_000;
    const run = () =>
      detectSharedAlbums({
        source,
        state,
        queue: new InMemoryWorkQueue(),
        deletePolicy: DEFAULT_DELETE_POLICY,
        archiveObjects: async () => 0,
        cadenceMs: 0,
        now: () => clock,
        runId: 'run',
        runStartedAt: clock,
      });

    expect((await run()).outcome).toBe('unavailable');
    expect((await state.loadAlbums())?.legacyServiceMissingAt).toBe(1_000_000);

    // The person signs in again: the session now lists the service, and its albums are handed out.
    serviceUrl = 'https://p101-sharedstreams.icloud.com:443';
    clock += 2 * DAY;
    expect(await run()).toMatchObject({ outcome: 'changed', albums: 1, changedAlbums: 1 });
    clock += 2 * DAY;
    await run();

    // The legacy albums are archived now, yet the mark (and status's "not archived") stays.
    const stored = await state.loadAlbums();
    expect(stored?.legacyServiceMissingAt).toBeUndefined();
    expect(sharedAlbumsStatus(stored).legacyServiceMissingSince).toBeUndefined();
  });
});
