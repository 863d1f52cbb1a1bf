/**
 * A legacy listing (`webgetalbumslist`) that could not be read whole is not a deletion: an album
 * entry the mapper cannot read leaves every known legacy album listed (none marked gone), and a 200
 * JSON answer without its `albums` field is a malformed answer (a retryable error naming the
 * field), not an empty list. Found by the deletion audit of session 14: the mapper's problems were
 * dropped and a missing field read as `[]`, so detection marked archived albums gone and, under
 * `mirror`, handed them to the workers for deletion (finding 66's family). Real adapter over
 * scripted HTTP answers, real detection step.
 */
import { describe, expect, it } from 'vitest';
import type { IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from '#adapters/icloud/http/types.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import { SharedStreamsSource } from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { detectSharedAlbums } from '#domain/shared-albums/detect-shared-albums.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { InMemoryWorkQueue } from '#test/fakes/in-memory-work-queue.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 100_000 };

const entry = (guid: string) => ({
  albumguid: guid,
  albumlocation: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  albumctag: 'c1',
  ownerdsid: '100',
  sharingtype: 'owned',
  attributes: { name: `Album ${guid}` },
});

/** Answers every `webgetalbumslist` with the next body of `bodies` (the last one repeats), 200. */
function scripted(bodies: unknown[]): IcloudHttp {
  let n = 0;
  return {
    async send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
      const body = JSON.stringify(bodies[Math.min(n++, bodies.length - 1)]);
      return {
        status: 200,
        headers: new Headers({ 'content-type': 'application/json' }),
        url: request.url,
        text: async () => body,
        json: async () => JSON.parse(body),
        body: null,
      };
    },
  };
}

async function twoRuns(second: unknown) {
  const client = new SharedStreamsClient({
    http: scripted([{ albums: [entry('A'), entry('B')] }, second]),
    baseUrl: () => 'https://p101-sharedstreams.icloud.com:443',
    dsid: '100',
    clientId: 'client',
    retry: { sleep: async () => undefined },
  });
  const state = new InMemorySharedAlbumStateStore();
  const queue = new InMemoryWorkQueue();
  let clock = 1_000_000;
  const deps = () => ({
    source: new SharedStreamsSource(client),
    state,
    queue,
    deletePolicy: MIRROR,
    archiveObjects: async () => 1000,
    cadenceMs: 0,
    now: () => clock,
    runId: 'run',
    runStartedAt: clock,
  });
  await detectSharedAlbums(deps());
  // The workers archived both albums, three items each.
  const current = (await state.loadAlbums())!;
  const albums = Object.fromEntries(
    Object.entries(current.albums).map(([g, a]) => [
      g,
      { ...a, archivedCtag: a.enqueuedCtag!, itemCount: 3 },
    ]),
  );
  await state.saveAlbums({ albums }, current.revision);
  queue.receive(100);
  clock += 3_600_000;
  const result = await detectSharedAlbums(deps()).catch((error: unknown) => error as Error);
  if (result instanceof Error) {
    const marked = Object.values((await state.loadAlbums())!.albums).filter((a) => a.goneAt !== undefined);
    return { error: result.message, markedGone: marked.length };
  }
  const gone = queue
    .peek()
    .flatMap((w) => w.message.items)
    .flatMap((i) => (i.type === 'sharedAlbum' && i.gone === true ? [i.album.albumguid] : []));
  return { goneAlbums: result.goneAlbums, handedOutGone: gone };
}

describe('a legacy listing that could not be read is not a deletion', () => {
  it('an album entry in a shape the mapper cannot read (no albumlocation) is not marked gone', async () => {
    const { albumlocation: _dropped, ...unreadable } = entry('B');
    const seen = await twoRuns({ albums: [entry('A'), unreadable] });
    expect(seen).toEqual({ goneAlbums: 0, handedOutGone: [] });
  });

  it('a 200 JSON answer without an `albums` field is a malformed answer, not an empty list', async () => {
    const seen = await twoRuns({ status: 'try again later' });
    expect(seen).toEqual({ error: expect.stringMatching(/webgetalbumslist.*albums/), markedGone: 0 });
  });

  it('an answer with an empty `albums` list still says the albums left', async () => {
    const seen = await twoRuns({ albums: [] });
    expect(seen).toEqual({ goneAlbums: 2, handedOutGone: ['A', 'B'] });
  });
});
