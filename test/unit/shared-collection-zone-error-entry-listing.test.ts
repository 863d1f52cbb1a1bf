/**
 * A new-generation listing that asks a database without a token (on a cadence, daily, after a
 * refused token) takes its answer as the whole list of album zones, but a zone CloudKit answers as
 * a failed entry (`zoneID` with `serverErrorCode`/`reason`, docs/protocol/cloudkit.md:
 * `zones/list` and `changes/database` may mix them in) says nothing about the album: a known album
 * so answered stays listed with its known tag, is not marked gone, and under `mirror` is not
 * handed to the workers for deletion. Found by the deletion audit of session 14. Real CloudKit
 * client and source over scripted HTTP, real detection step.
 */
import { describe, expect, it } from 'vitest';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import type { IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from '#adapters/icloud/http/types.ts';
import { SharedCollectionsSource } from '#adapters/icloud/shared-collections/shared-collections-source.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';

const Z1 = 'SharedCollection-11111111-1111-4111-8111-111111111111';
const Z2 = 'SharedCollection-22222222-2222-4222-8222-222222222222';
const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 100_000 };

const zone = (zoneName: string, syncToken: string) => ({
  zoneID: { zoneName, ownerRecordName: '_owner', zoneType: 'REGULAR_CUSTOM_ZONE' },
  syncToken,
});
const failed = (zoneName: string) => ({
  zoneID: { zoneName, ownerRecordName: '_owner' },
  serverErrorCode: 'TRY_AGAIN_LATER',
  reason: 'Zone is busy',
});

/** `changes/database`: the private database answers the next of `privateAnswers`, shared none. */
function scripted(privateAnswers: unknown[][]): IcloudHttp {
  let n = 0;
  return {
    async send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
      const database = /production\/(private|shared)\//.exec(request.url)![1]!;
      const zones = database === 'private' ? privateAnswers[Math.min(n++, privateAnswers.length - 1)]! : [];
      const body = JSON.stringify({ zones, syncToken: `T${n}`, moreComing: false });
      return {
        status: 200,
        url: request.url,
        headers: new Headers({ 'content-type': 'application/json' }),
        body: null,
        text: async () => body,
        json: async () => JSON.parse(body),
      };
    },
  };
}

describe('an album zone answered as a failed entry in a full listing', () => {
  it('is not marked gone (nor handed to the workers for deletion under mirror)', async () => {
    const client = new CloudKitClient({
      http: scripted([
        [zone(Z1, 'z1-a'), zone(Z2, 'z2-a')],
        [zone(Z1, 'z1-a'), failed(Z2)],
      ]),
      ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
      dsid: '12345',
      clientId: 'CLIENT',
      retry: {
        sleep: async () => {},
        policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
      },
    });
    const state = new InMemorySharedAlbumStateStore();
    const queue = new InMemoryWorkQueue();
    let clock = 1_000_000;
    const deps = () => ({
      source: new SharedCollectionsSource(client),
      state,
      queue,
      deletePolicy: MIRROR,
      archiveObjects: async () => 1000,
      // On a cadence: every database is asked without a token.
      cadenceMs: 60_000,
      now: () => clock,
      runId: 'run',
      runStartedAt: clock,
    });
    await detectSharedAlbums(deps());
    const current = (await state.loadAlbums())!;
    expect(Object.keys(current.albums).sort()).toEqual([Z1, Z2]);
    const albums = Object.fromEntries(
      Object.entries(current.albums).map(([g, a]) => [
        g,
        { ...a, archivedCtag: a.enqueuedCtag!, itemCount: 3 },
      ]),
    );
    await state.saveAlbums({ ...current, albums }, current.revision);
    queue.receive(100);
    clock += 3_600_000;
    const result = await detectSharedAlbums(deps());
    const gone = queue
      .peek()
      .flatMap((w) => w.message.items)
      .flatMap((i) => (i.type === 'sharedAlbum' && i.gone === true ? [i.album.albumguid] : []));
    expect({ goneAlbums: result.goneAlbums, handedOutGone: gone }).toEqual({
      goneAlbums: 0,
      handedOutGone: [],
    });
    // Kept with its known tag: nothing handed out for it either.
    expect((await state.loadAlbums())!.albums[Z2]!.album.ctag).toBe('z2-a');
  });
});
