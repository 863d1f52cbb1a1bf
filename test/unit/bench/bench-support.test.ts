import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describe, expect, it } from 'vitest';
import { mainThreadProfile, summariseProfile } from '../../bench/cpu-profile.ts';
import { ChildJobTimeout, loadFactor, runChildJob } from '../../bench/support/child-job.ts';
import { locateEntry } from '../../bench/support/lambda-bundles.ts';
import { startNullS3 } from '../../bench/support/null-s3.ts';

const STALLING_CHILD = fileURLToPath(new URL('./stalling-child.ts', import.meta.url));

describe('bench child jobs', () => {
  it('a job that runs out of time rejects with the last progress it reported, its limit scaled by the load', async () => {
    const error = await runChildJob(STALLING_CHILD, { bytes: 1234 }, 1500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildJobTimeout);
    const timeout = error as ChildJobTimeout;
    expect(timeout.partial).toEqual({ bytes: 1234, ms: 10 });
    expect(timeout.limitMs).toBeGreaterThanOrEqual(1500);
    expect(loadFactor()).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('bench CPU profile summary', () => {
  it('sums self time by function and by owner, idle samples left out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
    const summary = summariseProfile({
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('update', 'node:internal/crypto/hash') },
        { id: 3, callFrame: frame('send', 'file:///x/node_modules/@smithy/core/dist/index.js') },
        { id: 4, callFrame: frame('(garbage collector)', '') },
      ],
      samples: [1, 2, 2, 3, 4],
      timeDeltas: [1000, 30, 30, 20, 20],
    });
    expect(summary.top[0]).toEqual({ fn: 'update hash:10', percent: 60 });
    expect(summary.byOwner).toEqual([
      { owner: 'node: internals', percent: 60 },
      { owner: '@smithy/core', percent: 20 },
      { owner: '(garbage collector)', percent: 20 },
    ]);
  });

  it('with a window, counts only the samples taken inside it (start-up and warm-up left out)', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const summary = summariseProfile(
      {
        nodes: [
          { id: 1, callFrame: frame('makeSyncRequest', 'file:///x/node_modules/tsx/dist/index.mjs') },
          { id: 2, callFrame: frame('update', 'node:internal/crypto/hash') },
        ],
        samples: [1, 1, 2, 2, 1],
        timeDeltas: [10, 10, 10, 10, 10],
        startTime: 1000,
      },
      8,
      { start: 1025, end: 1045 },
    );
    expect(summary.byOwner).toEqual([{ owner: 'node: internals', percent: 100 }]);
  });

  it("picks the main thread's profile, not the module loader thread's", () => {
    expect(
      mainThreadProfile([
        'CPU.20261206.084937.3412.1.002.cpuprofile',
        'CPU.20261206.084937.3412.0.001.cpuprofile',
      ]),
    ).toBe('CPU.20261206.084937.3412.0.001.cpuprofile');
  });
});

describe('bench Lambda entries', () => {
  it('finds an entry in the restructured layout before the old one, and says where it looked when none is there', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bench-entries-'));
    try {
      const files = [
        'functions/entry/lambda/download-assets.ts',
        'functions/handlers/download-assets/index.ts',
        'functions/handlers/detect-changes/index.ts',
      ];
      for (const file of files) {
        await mkdir(join(root, file, '..'), { recursive: true });
        await writeFile(join(root, file), 'export const handler = 1;\n');
      }
      expect(locateEntry(root, 'download-assets')).toBe(
        join(root, 'functions/entry/lambda/download-assets.ts'),
      );
      expect(locateEntry(root, 'detect-changes')).toBe(
        join(root, 'functions/handlers/detect-changes/index.ts'),
      );
      await rm(join(root, 'functions/handlers'), { recursive: true });
      expect(() => locateEntry(root, 'detect-changes')).toThrow(/functions\/entry/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('bench null S3', () => {
  it('takes a multipart lib-storage upload and reports its size, storing nothing', async () => {
    const sink = await startNullS3();
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: sink.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    try {
      const body = Buffer.alloc(12 * 1024 * 1024, 7);
      await new Upload({
        client: s3,
        partSize: 5 * 1024 * 1024,
        params: { Bucket: 'b', Key: 'k/v.mov', Body: body },
      }).done();
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k/v.mov' }));
      expect(head.ContentLength).toBe(body.length);
    } finally {
      s3.destroy();
      await sink.stop();
    }
  });
});
