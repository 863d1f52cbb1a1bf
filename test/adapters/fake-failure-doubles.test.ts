import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyError, UnexpectedResponseError } from '#domain/errors.ts';
import type { ManifestEntryInput } from '#domain/model/manifest.ts';
import { mtimeMetadata } from '#domain/plan/object-metadata.ts';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';
import { CrashSchedule, SimulatedCrash } from '#test/fakes/crashing-invocation.ts';
import { CrashingMediaDownloader } from '#test/fakes/crashing-media-downloader.ts';
import { CrashingObjectStore } from '#test/fakes/crashing-object-store.ts';
import { CrashingSyncStateStore } from '#test/fakes/crashing-sync-state-store.ts';
import { FailingSyncStateStore, throttlingError } from '#test/fakes/failing-sync-state-store.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { ThrottlingObjectStore } from '#test/fakes/throttling-object-store.ts';
import { DURABLE_WRITE } from '#test/helpers/fault-matrix/catalogue.ts';

const zone = { database: 'private', zoneName: 'PrimarySync' } as const;

describe('FailingSyncStateStore', () => {
  it('fails the planned call of a method and serves the others', async () => {
    const store = new FailingSyncStateStore([
      { method: 'saveZone', error: throttlingError, failOnCalls: [2] },
    ]);
    await store.saveZone({ zone, syncToken: 'a' }, 0);
    const failure = await store.saveZone({ zone, syncToken: 'b' }, 1).catch((e: unknown) => e);
    expect(classifyError(failure)).toBe('retryable');
    await store.saveZone({ zone, syncToken: 'c' }, 1);
    expect((await store.loadZone(zone))?.syncToken).toBe('c');
  });

  it('fails iteration of the manifest when entries() is planned to fail', async () => {
    const store = new FailingSyncStateStore([{ method: 'entries', error: throttlingError }]);
    const iterate = async () => {
      for await (const _ of store.entries()) void _;
    };
    await expect(iterate()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('ThrottlingObjectStore', () => {
  it('answers the first puts with SlowDown, then stores', async () => {
    const store = new ThrottlingObjectStore({ throttledPuts: 1 });
    const put = () =>
      store.putStream('k.jpg', Readable.from([Buffer.from('abc')]), {
        contentType: 'image/jpeg',
        contentLength: 3,
        metadata: mtimeMetadata(0),
      });
    const failure = await put().catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: 'SlowDown' });
    expect(classifyError(failure)).toBe('retryable');
    expect(await store.head('k.jpg')).toBeUndefined();
    await put();
    expect((await store.head('k.jpg'))?.size).toBe(3);
  });
});

describe('CrashingObjectStore', () => {
  const view = Buffer.from('{"album":"Trip"}');
  const putView = (store: CrashingObjectStore) =>
    store.putBytes('albums/Trip.json', view, { contentType: 'application/json' });

  it('dies part-way through a put of bytes leaving nothing, as a PUT cut short', async () => {
    const inner = new InMemoryObjectStore();
    const store = new CrashingObjectStore(
      inner,
      new CrashSchedule([{ on: 'views.put', call: 1, when: 'midStream' }]),
    );
    await expect(putView(store)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(inner.keys()).toEqual([]);
  });

  it('dies after a put of bytes landed, leaving the object', async () => {
    const inner = new InMemoryObjectStore();
    const store = new CrashingObjectStore(
      inner,
      new CrashSchedule([{ on: 'views.put', call: 1, when: 'after' }]),
    );
    await expect(putView(store)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(inner.keys()).toEqual(['albums/Trip.json']);
  });
});

describe('CrashSchedule: an after crash drawn on a call that failed', () => {
  const photo = Buffer.alloc(1000, 3);
  const put = (store: CrashingObjectStore, key: string, body: Buffer) =>
    store.putStream(key, Readable.from([body]), {
      contentType: 'image/jpeg',
      contentLength: photo.length,
      metadata: mtimeMetadata(0),
    });

  it('moves to the next call to its port that succeeds (a 17-byte body failed the drawn upload)', async () => {
    const schedule = new CrashSchedule([{ on: 'objects.putStream', call: 1, when: 'after' }]);
    const inner = new InMemoryObjectStore();
    const store = new CrashingObjectStore(inner, schedule);
    // The CDN sent 17 bytes of the 1000 it announced: the upload fails, nothing is stored.
    await expect(put(store, 'a.jpg', photo.subarray(0, 17))).rejects.not.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual([]);
    await expect(put(store, 'b.jpg', photo)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual(['objects.putStream#2 after']);
    expect(inner.keys()).toEqual(['b.jpg']);
    expect({ failedCalls: schedule.failedCalls, carried: schedule.carried }).toEqual({
      failedCalls: 1,
      carried: 0,
    });
  });

  it('moves on through any port call (a conflicting manifest write), and waits when none succeeds', async () => {
    const schedule = new CrashSchedule([{ on: 'state.putEntry', call: 1, when: 'after' }]);
    const inner = new InMemorySyncStateStore();
    const state = new CrashingSyncStateStore(inner, schedule);
    await expect(state.putEntry(manifestEntry('P1'), 5)).rejects.toMatchObject({ name: 'ConflictError' });
    expect({ fired: schedule.fired, carried: schedule.carried }).toEqual({ fired: [], carried: 1 });
    await expect(state.putEntry(manifestEntry('P1'), 0)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual(['state.putEntry#2 after']);
    expect((await inner.getEntry({ zone, assetRecordName: 'P1' }))?.revision).toBe(1);
  });

  it('is not moved when the call failed because its invocation had died', async () => {
    const schedule = new CrashSchedule([{ on: 'objects.putStream', call: 1, when: 'after' }]);
    const store = new CrashingObjectStore(new InMemoryObjectStore(), schedule);
    const dying = put(store, 'a.jpg', photo.subarray(0, 17));
    schedule.crash('a sibling call');
    await expect(dying).rejects.toBeDefined();
    expect({ failedCalls: schedule.failedCalls, carried: schedule.carried }).toEqual({
      failedCalls: 0,
      carried: 0,
    });
  });
});

describe("the fault matrix's manifest-write crash point", () => {
  const pointOn = (when: 'before' | 'after') => ({ on: DURABLE_WRITE['manifest write'], call: 1, when });

  it('lands on a single entry written alone (putEntry), not only on batches (putEntries)', async () => {
    for (const when of ['before', 'after'] as const) {
      const schedule = new CrashSchedule([pointOn(when)]);
      const state = new CrashingSyncStateStore(new InMemorySyncStateStore(), schedule);
      await expect(state.putEntry(manifestEntry('P1'), 0)).rejects.toBeInstanceOf(SimulatedCrash);
      expect(schedule.fired).toEqual([`state.putEntry#1 ${when}`]);
    }
  });

  it('counts single writes and batches together', async () => {
    const schedule = new CrashSchedule([{ ...pointOn('before'), call: 3 }]);
    const state = new CrashingSyncStateStore(new InMemorySyncStateStore(), schedule);
    await state.putEntry(manifestEntry('P1'), 0);
    await state.putEntries([
      { entry: manifestEntry('P2'), expectedRevision: 0 },
      { entry: manifestEntry('P3'), expectedRevision: 0 },
    ]);
    await expect(state.putEntry(manifestEntry('P4'), 0)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual(['state.putEntry#3 before']);
  });
});

describe('CrashingMediaDownloader', () => {
  const body = Buffer.alloc(1000, 7);
  /** A CDN whose first answer is an error (no body), then the file. */
  const cdn = (): MediaDownloader => {
    let calls = 0;
    return {
      async open() {
        calls += 1;
        if (calls === 1) throw new UnexpectedResponseError('CDN answered 401');
        return { body: Readable.from([body]), contentLength: body.length, startsAt: 0 };
      },
    };
  };
  const readAll = async (download: MediaDownload) => {
    let n = 0;
    for await (const chunk of download.body) n += (chunk as Buffer).length;
    return n;
  };

  it('carries a mid-stream crash drawn on an error reply to the next download with a body', async () => {
    const schedule = new CrashSchedule([{ on: 'cdn.open', call: 1, when: 'midStream', fraction: 0.5 }]);
    const downloader = new CrashingMediaDownloader(cdn(), schedule);
    await expect(downloader.open('https://cdn/1', {})).rejects.toBeInstanceOf(UnexpectedResponseError);
    expect(schedule.fired).toEqual([]);
    const second = await downloader.open('https://cdn/2', {});
    await expect(readAll(second)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual(['cdn.open#2 midStream']);
    expect(schedule.bodilessCalls).toBe(1);
    expect(schedule.carried).toBe(0);
  });

  it('carries it as well when the body breaks on the wire before the cut', async () => {
    let calls = 0;
    const breaking: MediaDownloader = {
      async open() {
        calls += 1;
        const source =
          calls === 1
            ? new Readable({
                read() {
                  this.push(body.subarray(0, 100));
                  this.destroy(new Error('socket hang up'));
                },
              })
            : Readable.from([body]);
        return { body: source, contentLength: body.length, startsAt: 0 };
      },
    };
    const schedule = new CrashSchedule([{ on: 'cdn.open', call: 1, when: 'midStream', fraction: 0.5 }]);
    const downloader = new CrashingMediaDownloader(breaking, schedule);
    await expect(readAll(await downloader.open('https://cdn/1', {}))).rejects.toThrow('socket hang up');
    expect(schedule.fired).toEqual([]);
    await expect(readAll(await downloader.open('https://cdn/2', {}))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(schedule.fired).toEqual(['cdn.open#2 midStream']);
  });
});

function manifestEntry(name: string): ManifestEntryInput {
  return {
    zone,
    assetRecordName: name,
    masterRecordName: `M-${name}`,
    assetChangeTag: 'a',
    status: 'archived',
    flags: { isFavorite: false, isHidden: false, isDeleted: false },
    albums: [],
    versions: [],
    deletions: [],
  };
}
