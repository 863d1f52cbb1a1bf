import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { cliBuildOptions } from '../../scripts/cli-build-options.mjs';

/**
 * The compiled CLI (scripts/build-cli.mjs, its options in scripts/cli-build-options.mjs) as a local sync loads it: the chunk of the local sync
 * and every chunk it imports statically, which Node loads before the sync can start (issue 12: an
 * idle run within 120 MB). What the sync imports only when it needs it (the local S3, SQS, the
 * workers) is left out, as Node leaves it.
 */
const root = join(import.meta.dirname, '..', '..');
let loaded: string[];
let outputs: Metafile['outputs'];

beforeAll(async () => {
  const options = await cliBuildOptions(root);
  const { metafile } = (await build({ ...options, write: false, metafile: true, logLevel: 'silent' })) as {
    metafile: Metafile;
  };
  outputs = metafile.outputs;
  const start = Object.keys(outputs).find((out) =>
    Object.keys(outputs[out]?.inputs ?? {}).includes('functions/local/local-sync.ts'),
  );
  if (start === undefined) throw new Error('no chunk holds functions/local/local-sync.ts');
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const imported of outputs[out]?.imports ?? [])
      if (imported.kind === 'import-statement' && imported.path in outputs) visit(imported.path);
  };
  visit(start);
  // Modules esbuild took in but dropped every line of (tree-shaken) are not loaded.
  loaded = [...seen].flatMap((out) =>
    Object.entries(outputs[out]?.inputs ?? {})
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path),
  );
}, 60_000);

describe('what the compiled CLI loads for a local sync', () => {
  it('takes the ESM builds of the AWS SDK, not their CommonJS builds whole', () => {
    expect(loaded.some((input) => input.includes('node_modules/@aws-sdk/client-dynamodb/dist-es/'))).toBe(
      true,
    );
    expect(
      loaded.filter((input) => /node_modules\/@(aws-sdk|smithy)\/[^/]+\/dist-cjs\//.test(input)),
    ).toEqual([]);
  });

  it("carries zod's schemas but none of its locales besides English", () => {
    expect(loaded.some((input) => input.includes('node_modules/zod/v4/core/'))).toBe(true);
    expect(
      loaded.filter((input) => input.includes('node_modules/zod/v4/locales/') && !input.endsWith('/en.js')),
    ).toEqual([]);
  });

  it('starts no local S3 or SQS code before it is needed', () => {
    for (const part of [
      'node_modules/@aws-sdk/client-s3/',
      'node_modules/@aws-sdk/client-sqs/',
      'node_modules/@aws-sdk/lib-storage/',
    ])
      expect(loaded.filter((input) => input.includes(part))).toEqual([]);
  });
});

describe('the local S3 child process', () => {
  /** The output of the child's entry (dist/s3rver-process.mjs) and every chunk it imports statically. */
  const childOutputs = () => {
    const entry = Object.keys(outputs).find((out) => outputs[out]?.entryPoint?.endsWith('s3rver-process.ts'));
    if (entry === undefined) throw new Error('no output for functions/local/servers/s3rver-process.ts');
    const seen = new Set<string>();
    const visit = (out: string) => {
      if (seen.has(out)) return;
      seen.add(out);
      for (const imported of outputs[out]?.imports ?? []) if (imported.path in outputs) visit(imported.path);
    };
    visit(entry);
    return [...seen].map((out) => ({ out, ...(outputs[out] as Metafile['outputs'][string]) }));
  };

  // Node loaded s3rver's CommonJS tree (koa, winston, lodash...) module by module, about 600 files,
  // 140-190 ms of the child's start on an idle machine; a first sync's first page waits for it.
  it('carries s3rver and its dependencies in its own files instead of loading them from node_modules', () => {
    const child = childOutputs();
    expect(
      child
        .flatMap(({ imports }) => imports.filter((i) => i.external).map((i) => i.path))
        .filter((path) => !isBuiltin(path)),
    ).toEqual([]);
    const inputs = child.flatMap(({ inputs }) => Object.keys(inputs));
    expect(inputs.some((input) => input.includes('node_modules/s3rver/lib/'))).toBe(true);
    expect(inputs.some((input) => input.includes('node_modules/koa/'))).toBe(true);
  });

  it('shares no chunk with the CLI itself (a sync loads none of s3rver)', () => {
    expect(loaded.filter((input) => input.includes('node_modules/s3rver/'))).toEqual([]);
  });
});
