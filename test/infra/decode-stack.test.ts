import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { decodeStack } from '../../scripts/decode-stack.mjs';

/**
 * The Lambda functions run their minified bundle without `--enable-source-maps`: a stack trace
 * from their logs is decoded offline with the map CDK wrote beside the bundle.
 */
let dir: string;
let stack: string;
let map: unknown;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-decode-stack-'));
  await mkdir(join(dir, 'functions', 'app'), { recursive: true });
  await writeFile(
    join(dir, 'functions', 'app', 'archive-step.ts'),
    [
      'export function archiveStep(name: string): never {',
      "  const reason = 'cannot archive ' + name;",
      '  throw new Error(reason);',
      '}',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'functions', 'entry.ts'),
    "import { archiveStep } from './app/archive-step.ts';\nexport const handler = () => archiveStep('IMG_0001.HEIC');\n",
  );
  const outfile = join(dir, 'out', 'index.mjs');
  await build({
    entryPoints: [join(dir, 'functions', 'entry.ts')],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import(${JSON.stringify(outfile)}).then((m) => m.handler())`],
    { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } },
  );
  stack = run.stderr;
  map = JSON.parse(await readFile(`${outfile}.map`, 'utf8'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scripts/decode-stack.mjs', () => {
  it('a stack logged without --enable-source-maps names only the minified bundle', () => {
    expect(stack).toMatch(/index\.mjs:1:\d+/);
    expect(stack).not.toContain('archive-step.ts');
  });

  it('turns each bundle position back into the source file and line', () => {
    const decoded: string = decodeStack(stack, map);
    expect(decoded).toMatch(/functions\/app\/archive-step\.ts:3:\d+/);
    expect(decoded).toContain('cannot archive IMG_0001.HEIC');
  });

  it('leaves lines that name no bundle position as they were', () => {
    const text =
      'ERROR something failed\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n';
    expect(decodeStack(text, map)).toBe(text);
  });
});
