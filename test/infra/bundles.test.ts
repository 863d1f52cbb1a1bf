import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcloudS3Stack } from '../../infra/icloud-s3-stack.ts';
import { configFrom } from './synth.ts';

/** The function bundles CDK writes (one asset directory each): what Lambda loads at a cold start. */
let outdir: string;
let bundles: {
  /** The asset directory. */
  readonly dir: string;
  readonly code: string;
  readonly bytes: number;
  readonly files: readonly string[];
  /** The source files the bundle's code came from, as its source map names them. */
  readonly sources: readonly string[];
  /** The same of the resumable upload's bundle beside it, when there is one. */
  readonly lazySources: readonly string[];
}[];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'icloud-s3-cdk-bundles-'));
  const app = new App({ outdir });
  new IcloudS3Stack(app, 'Bundles', { config: configFrom({}) });
  app.synth();
  bundles = readdirSync(outdir)
    .filter((d) => d.startsWith('asset.'))
    .map((d) => ({ dir: join(outdir, d), files: readdirSync(join(outdir, d)) }))
    .filter(({ files }) => files.includes('index.mjs'))
    .map(({ dir, files }) => ({
      dir,
      code: readFileSync(join(dir, 'index.mjs'), 'utf8'),
      bytes: statSync(join(dir, 'index.mjs')).size,
      files,
      sources: (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] })
        .sources,
      lazySources: files.includes('s3-resumable-upload.mjs.map')
        ? (
            JSON.parse(readFileSync(join(dir, 's3-resumable-upload.mjs.map'), 'utf8')) as {
              sources: string[];
            }
          ).sources
        : [],
    }));
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('Lambda bundles as CDK builds them', () => {
  it('builds the two functions, each with its source map beside it (decoded offline)', () => {
    expect(bundles).toHaveLength(2);
    for (const bundle of bundles) expect(bundle.files).toEqual(expect.arrayContaining(['index.mjs.map']));
  });

  it('names no folder of the checkout that built it, so the same commit built elsewhere is the same asset', () => {
    // The asset's hash covers every file, maps included (infra/pipeline-function.ts): a builder's
    // path in a map would upload the workers again from another clone, and name its home folder.
    const checkout = join(import.meta.dirname, '..', '..');
    for (const bundle of bundles)
      for (const file of bundle.files.filter((name) => /\.(mjs|map)$/.test(name))) {
        const text = readFileSync(join(bundle.dir, file), 'utf8');
        const contents = file.endsWith('.map')
          ? ((JSON.parse(text) as { sourcesContent?: (string | null)[] }).sourcesContent ?? []).join('\n')
          : text;
        expect(contents.includes(checkout), `${file} names ${checkout}`).toBe(false);
      }
  });

  it("ships the dependencies' licence notices beside each bundle, not inside it", () => {
    for (const bundle of bundles) {
      expect(bundle.files).toEqual(expect.arrayContaining(['index.mjs.LEGAL.txt']));
      expect(bundle.code).toContain('For license information please see index.mjs.LEGAL.txt');
      expect(bundle.code).not.toContain('Copyright (c) 2015-2020, Salesforce.com');
    }
  });

  it('takes credentials from the environment only: no profile, SSO or web-identity chain inside', () => {
    for (const bundle of bundles) {
      expect(bundle.code).toContain('AWS_SECRET_ACCESS_KEY');
      expect(bundle.code).not.toContain('AWS_WEB_IDENTITY_TOKEN_FILE');
    }
  });

  it('keeps zod to the schemas used (namespace import)', () => {
    // Dutch, one of the locales `import { z } from 'zod'` brought along (all 40-odd of them).
    for (const bundle of bundles) expect(bundle.code).not.toContain('Ongeldige invoer');
  });

  it('parses with zod/mini and its English messages, never classic zod (103 KB of each bundle, 39 KB now)', () => {
    // A module the functions load that imports `zod` instead of functions/shared/zod.ts brings
    // classic zod back whole; the source map names every file whose code is in the bundle.
    for (const bundle of bundles) {
      const zod = bundle.sources.filter((source) => source.includes('node_modules/zod/'));
      expect(zod.filter((source) => source.includes('/zod/v4/mini/'))).not.toEqual([]);
      expect(zod.filter((source) => source.includes('/zod/v4/classic/'))).toEqual([]);
      expect(zod.filter((source) => source.includes('/zod/v4/locales/'))).toEqual([
        expect.stringMatching(/\/zod\/v4\/locales\/en\.js$/),
      ]);
    }
  });

  it('leaves out the event-stream codec, and every operation that would need it', () => {
    for (const bundle of bundles) {
      // The stand-in of functions/adapters/aws/sdk-without-event-streams.ts, not the codec.
      expect(bundle.code).toContain('leaves out the AWS SDK event-stream codec');
      expect(bundle.code).not.toContain('Truncated event message received');
      // The one event-stream operation of the four clients (DynamoDB, SQS and Secrets Manager
      // have none): its schema would be here if a function called it.
      expect(bundle.code).not.toContain('SelectObjectContentEventStream');
    }
  });

  it("leaves out DynamoDB's endpoint cache, which no middleware in the bundle reads", () => {
    for (const bundle of bundles) {
      // No cache at all: neither mnemonist's LRU nor a stand-in (the settings' stand-in,
      // functions/adapters/aws/sdk-without-endpoint-discovery.ts, builds none).
      expect(bundle.code).not.toContain('getEndpoint(');
      expect(bundle.code).not.toContain('leaves out the AWS SDK endpoint cache');
      // The endpoint-discovery middleware, the one reader of the cache, is not installed by any
      // command of this SDK: were it, it would be here.
      expect(bundle.code).not.toContain('Custom endpoint is supplied; endpointDiscoveryEnabled');
      // Nor its settings (functions/adapters/aws/sdk-without-endpoint-discovery.ts: discovery off).
      expect(bundle.code).not.toContain('AWS_ENABLE_ENDPOINT_DISCOVERY');
    }
  });

  it('leaves out the paginators no function calls, and the operations only they reach', () => {
    for (const bundle of bundles) {
      // lib-dynamodb's paginateScan kept its ScanCommand (and the client's, and its schemas).
      expect(bundle.sources.filter((source) => /ScanPaginator|ScanCommand/.test(source))).toEqual([]);
      expect(bundle.sources.some((source) => source.includes('QueryPaginator'))).toBe(true);
    }
  });

  it('downloads from the CDN in the workers alone: the detector opens the library side only', () => {
    // node-cdn-transport.ts's stall message stands for the CDN code.
    const downloading = bundles.filter((bundle) => bundle.code.includes('the CDN sent nothing for'));
    expect(downloading).toHaveLength(1);
    expect(downloading[0]?.code).not.toContain('SendMessageBatch');
    // Their SQS client, which sends a paused long video on in a new message, is a bundle apart.
    expect(downloading[0]?.code).toContain('import("./work-continuation-sqs.mjs")');
    expect(downloading[0]?.files).toEqual(expect.arrayContaining(['work-continuation-sqs.mjs']));
    expect(downloading[0]?.sources.filter((source) => source.includes('@aws-sdk/client-sqs'))).toEqual([]);
  });

  it('reads change feeds and enumerations in the detector alone: the workers look up named assets only', () => {
    // cloudkit-asset-source.ts's enumeration problem stands for the library-reading code.
    const reading = bundles.filter((bundle) => bundle.code.includes('came without an asset'));
    expect(reading).toHaveLength(1);
    expect(reading[0]?.code).toContain('SendMessageBatch');
    // CloudKit's listing calls (CloudKitClient over CloudKitRecordsClient): the detector's alone.
    for (const call of ['changes/database', 'HyperionIndexCountLookup', 'CheckIndexingState']) {
      expect(bundles.filter((bundle) => bundle.code.includes(call))).toEqual([reading[0]]);
    }
  });

  it('lists and reads back objects in the detector alone: the workers head, put and delete', () => {
    for (const operation of ['ListObjectsV2', '"GetObject"']) {
      const listing = bundles.filter((bundle) => bundle.code.includes(operation));
      expect(listing).toHaveLength(1);
      expect(listing[0]?.code).not.toContain('the CDN sent nothing for');
    }
  });

  it('lists Shared Albums in the detector alone: the workers read the items of the albums it listed', () => {
    // `KnownSharedAlbums.askEveryDatabase` is read by the listings alone (both generations').
    const listing = bundles.filter((bundle) => bundle.code.includes('askEveryDatabase'));
    expect(listing).toHaveLength(1);
    expect(listing[0]?.code).not.toContain('the CDN sent nothing for');
  });

  it('streams uploads (lib-storage) in the workers alone: the detector puts only bytes it holds', () => {
    const streaming = bundles.filter((bundle) =>
      bundle.sources.some((source) => source.includes('node_modules/@aws-sdk/lib-storage/')),
    );
    expect(streaming).toHaveLength(1);
    expect(streaming[0]?.code).toContain('the CDN sent nothing for');
  });

  it('keeps the resumable upload of long videos, and hash-wasm, out of index.mjs: a bundle of its own beside the workers', () => {
    const workers = bundles.filter((bundle) => bundle.code.includes('the CDN sent nothing for'));
    const detector = bundles.filter((bundle) => !bundle.code.includes('the CDN sent nothing for'));
    expect(workers).toHaveLength(1);
    const [bundle] = workers;
    if (bundle === undefined) return;
    expect(bundle.files).toEqual(
      expect.arrayContaining([
        's3-resumable-upload.mjs',
        's3-resumable-upload.mjs.map',
        's3-resumable-upload.mjs.LEGAL.txt',
      ]),
    );
    // Loaded by a dynamic import alone, on the resumable path; nothing of it or of hash-wasm inside.
    expect(bundle.code).toContain('import("./s3-resumable-upload.mjs")');
    expect(bundle.code).not.toMatch(/from\s*"\.\/s3-resumable-upload\.mjs"/);
    expect(
      bundle.sources.filter((source) => /hash-wasm|s3-resumable-upload|resumable-digest/.test(source)),
    ).toEqual([]);
    // It holds nothing index.mjs holds (no second SDK, no second domain error class): its own code and hash-wasm's
    // (in esbuild's order, which is no concern here).
    expect(
      bundle.lazySources.map((source) => source.replace(/^.*?(functions|node_modules)\//, '$1/')).sort(),
    ).toEqual([
      'functions/adapters/aws/hash-wasm-digests.ts',
      'functions/adapters/aws/resumable-digest.ts',
      'functions/adapters/aws/s3-resumable-upload.ts',
      'node_modules/hash-wasm/dist/index.esm.js',
    ]);
    // The change detector uploads nothing of the kind (its bundles beside are the catalog's fold and the failed photos' retry).
    for (const other of detector)
      expect(other.files.filter((file) => file !== 'index.mjs' && file.endsWith('.mjs'))).toEqual([
        'catalog-fold.mjs',
        'retry-failed-photos.mjs',
        'srp-sign-in.mjs',
      ]);
  });

  it("keeps the retry of failed photos out of the detector's index.mjs: a bundle of its own, loaded when one is due", async () => {
    const [detector, ...more] = bundles.filter((bundle) => bundle.files.includes('retry-failed-photos.mjs'));
    expect(more).toEqual([]);
    if (detector === undefined) throw new Error('no retry bundle');
    expect(detector.code).toContain('import("./retry-failed-photos.mjs")');
    expect(detector.sources.filter((source) => source.includes('retry-failed-photos'))).toEqual([]);
    // It imports nothing (types aside): loaded as Lambda would, it tries a due photo.
    const lazy = await import(pathToFileURL(join(detector.dir, 'retry-failed-photos.mjs')).href);
    const zone = { database: 'private', zoneName: 'PrimarySync' };
    const calls: string[] = [];
    const stillFailing = await lazy.retryFailedPhotos(
      {
        state: {
          getEntries: async () => new Map([['k', { assetRecordName: 'A1', status: 'failed' }]]),
          dropRetry: async () => calls.push('drop'),
          recordRetryTried: async (_: unknown, tries: number) => calls.push(`tried ${tries}`),
        },
        source: { lookupAssets: async () => ({ assets: [{ assetRecordName: 'A1' }], unavailable: [] }) },
        now: () => 1,
        enqueue: async (changes: unknown[]) => calls.push(`queued ${changes.length}`),
      },
      zone,
      [{ zone, assetRecordName: 'A1', failedAt: 0, tries: 7 }],
    );
    expect(stillFailing).toEqual(['A1']);
    expect(calls).toEqual(['queued 1', 'tried 8']);
  });

  it("keeps the catalog's fold out of the detector's index.mjs: a bundle of its own, loaded when the journal holds objects", async () => {
    const [detector, ...more] = bundles.filter((bundle) => bundle.files.includes('catalog-fold.mjs'));
    expect(more).toEqual([]);
    if (detector === undefined) throw new Error('no catalog fold bundle');
    expect(detector.code).toContain('import("./catalog-fold.mjs")');
    expect(
      detector.sources.filter((source) => /catalog-fold|catalog-shard|xmp-sidecar/.test(source)),
    ).toEqual([]);
    // It throws no domain error class of its own (a failed fold is only logged): no copy of them.
    const lazyUrl = pathToFileURL(join(detector.dir, 'catalog-fold.mjs')).href;
    const lazyCode = readFileSync(join(detector.dir, 'catalog-fold.mjs'), 'utf8');
    expect(lazyCode.includes('ProvisionedThroughputExceededException')).toBe(false); // classifyError's table
    // Loaded as Lambda would, it folds a journal object under the lock and deletes it.
    const lazy = await import(lazyUrl);
    const calls: string[] = [];
    const journal = 'catalog/journal/20261207T000000000Z-x.json';
    const result = await lazy.foldJournal(
      {
        state: {
          acquireLock: async (name: string) => {
            calls.push(`lock ${name}`);
            return { acquired: true, lease: 'l' };
          },
          releaseLock: async () => {
            calls.push('release');
            return true;
          },
          getEntries: async () => new Map(),
        },
        objects: {
          getStream: async () => ({ body: Readable.from([Buffer.from('{"v":1,"items":[]}')]) }),
          deleteMany: async (keys: string[]) => calls.push(`delete ${keys.join()}`),
        },
        logger: { info: () => undefined, warn: () => undefined },
        now: () => 1,
      },
      'run',
      [journal],
    );
    expect(result).toMatchObject({ outcome: 'folded', journalObjects: 1, assetsFolded: 0 });
    expect(calls).toEqual(['lock catalog', `delete ${journal}`, 'release']);
  });

  it('keeps the SRP sign-in out of both index.mjs: a bundle of its own, with their error classes', async () => {
    const withSrp = bundles.filter((bundle) => bundle.files.includes('srp-sign-in.mjs'));
    expect(withSrp).toHaveLength(2);
    for (const bundle of withSrp) {
      expect(bundle.code).toContain('import("./srp-sign-in.mjs")');
      expect(
        bundle.sources.filter((source) =>
          /auth\/(srp|srp-sign-in|srp-answer|escrow|two-factor-challenge)\.ts$/.test(source),
        ),
      ).toEqual([]);
    }
    const [one] = withSrp as [(typeof withSrp)[number]];
    const lazyUrl = pathToFileURL(join(one.dir, 'srp-sign-in.mjs')).href;
    const lazyCode = readFileSync(join(one.dir, 'srp-sign-in.mjs'), 'utf8');
    expect(lazyCode.includes('ProvisionedThroughputExceededException')).toBe(false); // classifyError's table
    await expect(import(lazyUrl)).rejects.toThrow(/loaded without the bundle that holds it/);
    // Handed the classes as index.mjs hands them over, a throttled sign-in throws index.mjs's class.
    const hosts = Symbol.for('icloud-s3.lazy-hosts');
    const errors = await import('#domain/errors.ts');
    const throttle = await import('#adapters/icloud/auth/throttle.ts');
    Object.assign(globalThis, {
      [hosts]: {
        'functions/domain/errors.ts': errors,
        'functions/adapters/icloud/auth/throttle.ts': throttle,
      },
    });
    try {
      const lazy = await import(`${lazyUrl}?handed-over`);
      const ctx = { session: { fields: { throttledUntil: 10_000 } }, now: () => 1 };
      const refused = await lazy.srpSignIn(ctx, undefined).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(throttle.SignInThrottledError);
      expect(refused).toBeInstanceOf(errors.RateLimitedError);
    } finally {
      Reflect.deleteProperty(globalThis, hosts);
    }
  });

  it("keeps Shared Albums' item work out of the workers' index.mjs: a bundle of its own, one class per domain error", async () => {
    const [workers, ...more] = bundles.filter((bundle) => bundle.files.includes('shared-albums-work.mjs'));
    expect(more).toEqual([]);
    if (workers === undefined) throw new Error('no Shared Albums bundle');
    expect(workers.code).toContain('the CDN sent nothing for');
    expect(workers.code).toContain('import("./shared-albums-work.mjs")');
    expect(
      workers.sources.filter((source) =>
        /shared-albums-work|archive-shared-album|shared-catalog/.test(source),
      ),
    ).toEqual([]);
    // The domain's error classes are index.mjs's, handed over when it loaded (LAZY_HOST_MODULES):
    // a copy of its own would break `instanceof` and classifyError between the two bundles.
    const lazyCode = readFileSync(join(workers.dir, 'shared-albums-work.mjs'), 'utf8');
    expect(lazyCode.includes('no folder free for shared album')).toBe(true);
    expect(lazyCode.includes('ProvisionedThroughputExceededException')).toBe(false); // classifyError's table
    expect(workers.code.includes('icloud-s3.lazy-hosts')).toBe(true);
    const lazyUrl = pathToFileURL(join(workers.dir, 'shared-albums-work.mjs')).href;
    await expect(import(lazyUrl)).rejects.toThrow(/loaded without the bundle that holds it/);
    // Handed the classes as index.mjs hands them over, it knows an album gone (SharedAlbumGoneError) by them.
    const hosts = Symbol.for('icloud-s3.lazy-hosts');
    const sharedErrors = await import('#domain/shared-albums/errors.ts');
    Object.assign(globalThis, {
      [hosts]: {
        'functions/domain/errors.ts': await import('#domain/errors.ts'),
        'functions/domain/shared-albums/errors.ts': sharedErrors,
      },
    });
    try {
      const lazy = await import(`${lazyUrl}?handed-over`);
      const gone = new Proxy(
        {},
        {
          get: () => async () => {
            throw new sharedErrors.SharedAlbumGoneError('left');
          },
        },
      );
      const library = { items: 1, archived: 1, failed: 0, failures: [], bytesArchived: 3 };
      const warned: string[] = [];
      const result = await lazy.archiveSharedWork(
        {
          archive: { state: gone, objects: gone, now: () => 1 },
          logger: { warn: (message: string) => warned.push(message), info: () => undefined },
          sharedAlbums: { state: gone, deletePolicy: { mode: 'keep' }, comments: false },
          count: () => undefined,
        },
        { sharedAlbums: gone, downloader: gone },
        { items: [{ type: 'sharedAlbum', album: { albumguid: 'A1', name: 'Gone' } }] },
        library,
        new AbortController().signal,
      );
      expect(result).toBe(library);
      expect(warned).toEqual([]);
    } finally {
      Reflect.deleteProperty(globalThis, hosts);
    }
  });

  it('loads the resumable upload bundle as Lambda would, and it hashes and sends a body whole', async () => {
    const workers = bundles.find((bundle) => bundle.files.includes('s3-resumable-upload.mjs'));
    if (workers === undefined) throw new Error('no resumable upload bundle');
    const lazy = (await import(pathToFileURL(join(workers.dir, 's3-resumable-upload.mjs')).href)) as {
      openResumableUpload: (
        target: unknown,
        from: unknown,
      ) => Promise<{
        transfer(body: Readable, options: { save: () => Promise<void> }): Promise<{ done?: unknown }>;
      }>;
    };
    const body = Buffer.from(Array.from({ length: 6 * 1024 * 1024 + 7 }, (_, i) => (i * 31) & 0xff));
    const parts = new Map<number, number>();
    let hashed: { md5: string; sha256: string } | undefined;
    const upload = await lazy.openResumableUpload(
      {
        requests: {
          listParts: async () => ({}),
          uploadPart: async (input: { PartNumber: number; Body: Buffer }) => {
            parts.set(input.PartNumber, input.Body.length);
            return { ETag: `"etag-${input.PartNumber}"` };
          },
          complete: async () => ({ ETag: '"done-2"' }),
          abort: async () => ({}),
        },
        limits: { minPartSize: 5 * 1024 * 1024, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 },
        lengthMismatch: () => new Error('length'),
        bucket: 'b',
        key: 'k',
        contentLength: body.length,
        shape: { partSize: 5 * 1024 * 1024, queueSize: 2 },
        listPartsPageSize: 1000,
        create: async () => 'upload-1',
        finish: async (_etag: string, digest: { md5: string; sha256: string }) => {
          hashed = digest;
          return {};
        },
      },
      undefined,
    );
    await upload.transfer(Readable.from([body]), { save: async () => undefined });
    expect([...parts]).toEqual([
      [1, 5 * 1024 * 1024],
      [2, 1024 * 1024 + 7],
    ]);
    expect(hashed).toMatchObject({
      md5: createHash('md5').update(body).digest('hex'),
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  });

  it("carries no other function's code: both functions within the 0.6 MB goal", () => {
    // 0.92 MB each when both functions were composed from one root, carried the Public Suffix
    // List and every S3 operation's schema; 0.747 MB (detector) and 0.720 MB (workers) after; then
    // zod/mini in place of classic zod (-66 KB each), and without the SDK's event-stream codec and
    // signing, JS hash fallbacks, web-stream helpers, package.json files and DynamoDB's endpoint
    // cache, the detector without the CDN and the workers without the change feeds, enumerations
    // and albums (-54 KB each): 0.627 MB and 0.599 MB. Then the detector without lib-storage (it
    // puts bytes it holds) and each function with its own part of the state table's adapter:
    // 0.592 MB and 0.595 MB. A message's batched claims and entries added 6.5 KB to the workers;
    // the unused paginators' commands left (-0.9 KB each) and lib-dynamodb's TransactWriteCommand
    // was not taken (-0.6 KB): 0.5997 MB. Then the licence notices moved beside the bundles (-2 KB
    // each), and the workers lost the Shared Albums listing, CloudKit's listing calls and the
    // bucket's listing and reading back, which only the detector and the CLI run (-10.8 KB):
    // 0.587 MB (workers) and 0.591 MB (detector). DynamoDB's endpoint-discovery settings and its
    // cache's stand-in left out (-0.9 KB each) made room for the versions waiting for a download
    // URL (+0.7 KB each). The SDK's error classes written compactly (infra/lambda-bundle.ts, -10.5
    // KB workers, -6.5 KB detector) made room for the resumable upload of long videos (+2.2 KB in
    // the workers: its ListParts and the store's entry to it; the rest is a bundle of its own).
    // Shared Albums' item work moved to a bundle of its own, loaded for a shared album alone
    // (-17.5 KB workers: 599,629 -> 582,094 B). The detector's catalog fold likewise, loaded when
    // the journal holds objects alone (-9.0 KB detector: 599,259 -> 590,220 B), and the SRP sign-in
    // a refresh falls back on (-7.0 KB detector: -> 583,263 B; the workers too).
    const [detector, workers] = [...bundles]
      .sort(
        (a, b) =>
          Number(a.code.includes('the CDN sent nothing for')) -
          Number(b.code.includes('the CDN sent nothing for')),
      )
      .map((bundle) => bundle.bytes);
    expect(detector).toBeLessThanOrEqual(600_000);
    expect(workers).toBeLessThanOrEqual(600_000);
  });
});
