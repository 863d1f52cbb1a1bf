import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcloudS3Stack } from '../../infra/icloud-s3-stack.ts';
import { configFrom } from './synth.ts';

/** The function bundles CDK writes (one asset directory each): what Lambda loads at a cold start. */
let outdir: string;
let bundles: {
  readonly code: string;
  readonly bytes: number;
  readonly files: readonly string[];
  /** The source files the bundle's code came from, as its source map names them. */
  readonly sources: readonly string[];
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
      code: readFileSync(join(dir, 'index.mjs'), 'utf8'),
      bytes: statSync(join(dir, 'index.mjs')).size,
      files,
      sources: (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] })
        .sources,
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

  it("carries no other function's code: the detector under 0.686 MB, the workers under 0.66 MB", () => {
    // 0.92 MB each when both functions were composed from one root, carried the Public Suffix
    // List and every S3 operation's schema; 0.747 MB (detector) and 0.720 MB (workers) after;
    // 0.681 MB and 0.654 MB with zod/mini in place of classic zod.
    const [workers, detector] = bundles.map((bundle) => bundle.bytes).sort((a, b) => a - b);
    expect(detector).toBeLessThan(686_000);
    expect(workers).toBeLessThan(660_000);
  });
});
