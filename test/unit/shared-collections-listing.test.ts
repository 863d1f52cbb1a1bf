/**
 * How new-generation Shared Albums are listed without a request of their own when the library's
 * `changes/database` of the same run covers them (docs/protocol/shared-albums.md#new-generation):
 * a delta from a token the last listing left names every album zone that changed or went; a delta
 * from another token does not, and costs one delta of our own; pages are joined.
 */
import { describe, expect, it } from 'vitest';
import { CloudKitClient } from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import type { IcloudHttp, IcloudHttpRequest, IcloudHttpResponse } from '#adapters/icloud/http/types.ts';
import { SharedCollectionsSource } from '#adapters/icloud/shared-collections/shared-collections-source.ts';
import type { SharedAlbum } from '#domain/shared-albums/model.ts';
import type { KnownSharedAlbums } from '#ports/shared-album-source.ts';

const Z1 = 'SharedCollection-11111111-1111-4111-8111-111111111111';
const Z2 = 'SharedCollection-22222222-2222-4222-8222-222222222222';
const Z3 = 'SharedCollection-33333333-3333-4333-8333-333333333333';

type Database = 'private' | 'shared';

/** `changes/database` answers by database and the token asked with (`-` for none). */
class DatabaseChangesHttp implements IcloudHttp {
  readonly answers = new Map<string, { zones: unknown[]; syncToken: string; moreComing?: boolean }>();
  readonly sent: { database: string; token?: string }[] = [];

  answer(database: Database, token: string | undefined, zones: unknown[], syncToken: string, more = false) {
    this.answers.set(`${database}:${token ?? '-'}`, { zones, syncToken, moreComing: more });
  }

  async send(request: IcloudHttpRequest): Promise<IcloudHttpResponse> {
    const database = /production\/(private|shared)\//.exec(request.url)![1]!;
    const token = (request.json as { syncToken?: string } | undefined)?.syncToken;
    this.sent.push({ database, ...(token === undefined ? {} : { token }) });
    const found = this.answers.get(`${database}:${token ?? '-'}`);
    if (found === undefined) throw new Error(`unscripted changes/database ${database} ${token}`);
    const body = JSON.stringify(found);
    return {
      status: 200,
      url: request.url,
      headers: new Headers({ 'content-type': 'application/json' }),
      body: null,
      text: async () => body,
      json: async () => JSON.parse(body),
    };
  }
}

const zone = (zoneName: string, syncToken: string) => ({
  zoneID: { zoneName, ownerRecordName: '_owner', zoneType: 'REGULAR_CUSTOM_ZONE' },
  syncToken,
});
const gone = (zoneName: string) => ({ zoneID: { zoneName, ownerRecordName: '_owner' }, deleted: true });

const album = (zoneName: string, ctag: string, database: Database = 'private'): SharedAlbum => ({
  albumguid: zoneName,
  name: zoneName.slice(-4),
  location: '',
  ctag,
  ownerDsid: '_owner',
  sharingType: database === 'private' ? 'owned' : 'subscribed',
  isPublic: false,
  collection: { database, zoneName, ownerRecordName: '_owner' },
});

function setUp() {
  const http = new DatabaseChangesHttp();
  const client = new CloudKitClient({
    http,
    ckdatabasewsUrl: () => 'https://p42-ckdatabasews.icloud.com:443',
    dsid: '12345',
    clientId: 'CLIENT',
    retry: {
      sleep: async () => {},
      policy: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, retryAfterCapMs: 1 },
    },
  });
  const source = new SharedCollectionsSource(client);
  /** The library's own read of a database this run, as detection makes it. */
  const libraryReads = async (database: Database, token: string | undefined) => {
    let result = await client.changesDatabase(database, token);
    while (result.moreComing) result = await client.changesDatabase(database, result.syncToken);
  };
  const list = (known: Omit<KnownSharedAlbums, 'askEveryDatabase'>) => {
    const before = http.sent.length;
    return source
      .listAlbums({ askEveryDatabase: false, ...known })
      .then((listed) => ({ listed, asked: http.sent.slice(before) }));
  };
  return { http, libraryReads, list };
}

const ctags = (albums: readonly SharedAlbum[]) =>
  Object.fromEntries(albums.map((a) => [a.albumguid, a.ctag]));

describe('new-generation listing from the library changes of the same run', () => {
  it('costs no request when the library asked from a token the last listing left', async () => {
    const s = setUp();
    s.http.answer('private', 'T1', [zone('PrimarySync', 'p9'), zone(Z1, 'z1-b'), zone(Z3, 'z3-a')], 'T2');
    await s.libraryReads('private', 'T1');
    const { listed, asked } = await s.list({
      albums: [album(Z1, 'z1-a'), album(Z2, 'z2-a')],
      tokens: { private: ['T0', 'T1'] },
    });
    expect(asked).toEqual([]);
    // Z1 changed, Z2 did not (kept with its tag), Z3 is new.
    expect(ctags(listed.albums)).toEqual({ [Z1]: 'z1-b', [Z2]: 'z2-a', [Z3]: 'z3-a' });
    // The library will save T2 after its own changes: both stay usable starting points.
    expect(listed.tokens?.private).toEqual(['T1', 'T2']);
  });

  it('keeps the stored tokens (nothing to save) when the library answer is empty', async () => {
    const s = setUp();
    s.http.answer('private', 'T1', [], 'T1');
    await s.libraryReads('private', 'T1');
    const { listed, asked } = await s.list({
      albums: [album(Z1, 'z1-a')],
      tokens: { private: ['T0', 'T1'] },
    });
    expect(asked).toEqual([]);
    expect(ctags(listed.albums)).toEqual({ [Z1]: 'z1-a' });
    expect(listed.tokens?.private).toEqual(['T0', 'T1']);
  });

  it('drops an album zone the library answer reports deleted (deleted by its owner, or left)', async () => {
    const s = setUp();
    s.http.answer('private', 'T1', [gone(Z1)], 'T2');
    await s.libraryReads('private', 'T1');
    const { listed } = await s.list({
      albums: [album(Z1, 'z1-a'), album(Z2, 'z2-a')],
      tokens: { private: ['T1'] },
    });
    expect(ctags(listed.albums)).toEqual({ [Z2]: 'z2-a' });
  });

  it('joins a library answer paged over two calls', async () => {
    const s = setUp();
    s.http.answer('private', 'T1', [zone(Z1, 'z1-b')], 'T1b', true);
    s.http.answer('private', 'T1b', [zone(Z2, 'z2-b')], 'T2');
    await s.libraryReads('private', 'T1');
    const { listed, asked } = await s.list({
      albums: [album(Z1, 'z1-a'), album(Z2, 'z2-a')],
      tokens: { private: ['T1'] },
    });
    expect(asked).toEqual([]);
    expect(ctags(listed.albums)).toEqual({ [Z1]: 'z1-b', [Z2]: 'z2-b' });
  });

  it('asks its own delta when the library asked from a token the last listing did not leave', async () => {
    const s = setUp();
    s.http.answer('private', 'T7', [], 'T8');
    s.http.answer('private', 'T1', [zone(Z1, 'z1-b')], 'T3');
    await s.libraryReads('private', 'T7');
    const { listed, asked } = await s.list({ albums: [album(Z1, 'z1-a')], tokens: { private: ['T1'] } });
    expect(asked).toEqual([{ database: 'private', token: 'T1' }]);
    expect(ctags(listed.albums)).toEqual({ [Z1]: 'z1-b' });
  });

  it('asks a database the library did not read, where an album is known, from the last token (one request)', async () => {
    const s = setUp();
    s.http.answer('private', 'T1', [], 'T1');
    s.http.answer('shared', 'S1', [], 'S1');
    await s.libraryReads('private', 'T1');
    const { listed, asked } = await s.list({
      albums: [album(Z1, 'z1-a'), album(Z2, 'z2-a', 'shared')],
      tokens: { private: ['T1'], shared: ['S1'] },
    });
    expect(asked).toEqual([{ database: 'shared', token: 'S1' }]);
    expect(ctags(listed.albums)).toEqual({ [Z1]: 'z1-a', [Z2]: 'z2-a' });
    expect(listed.tokens).toEqual({ private: ['T1'], shared: ['S1'] });
  });
});
