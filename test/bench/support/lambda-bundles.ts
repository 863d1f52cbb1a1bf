/**
 * The deployable Lambda artifacts, measured as Lambda loads them: each function's entry bundled
 * by infra/lambda-bundle.ts, as the stack and test/e2e/lambda-bundle.test.ts bundle it, its size
 * on disk, and the CPU time a
 * fresh Node process spends importing it (the cold start's init phase, before the first event),
 * beside the same process importing an empty module.
 *
 * The entry files are found the tolerant way, so the bench outlives a move of the handlers:
 * `<dir>/<name>/index.ts` or `<dir>/<name>.ts` in `functions/entry/lambda`, `functions/entry`,
 * `functions/entries`, then `functions/handlers` (today's place).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleLambda as bundleFunction } from '../../../infra/lambda-bundle.ts';

export const LAMBDA_FUNCTIONS = ['detect-changes', 'download-assets'] as const;
export type LambdaFunction = (typeof LAMBDA_FUNCTIONS)[number];

const ENTRY_DIRECTORIES = [
  'functions/entry/lambda',
  'functions/entry',
  'functions/entries',
  'functions/handlers',
];

/** The entry file of `name` under `root`, wherever the current layout keeps it. */
export function locateEntry(root: string, name: LambdaFunction): string {
  for (const dir of ENTRY_DIRECTORIES) {
    for (const file of [join(dir, name, 'index.ts'), join(dir, `${name}.ts`)]) {
      const path = join(root, file);
      if (existsSync(path)) return path;
    }
  }
  throw new Error(`no entry file for ${name} under ${ENTRY_DIRECTORIES.join(', ')}`);
}

export async function bundleLambda(root: string, name: LambdaFunction, outDir: string) {
  const entry = locateEntry(root, name);
  const outfile = await bundleFunction(root, entry, join(outDir, name));
  return { entry, outfile, bytes: (await stat(outfile)).size };
}

export interface ImportCost {
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** Environment a deployed function has (values only need to parse; nothing is called). */
const LAMBDA_ENV: Readonly<Record<string, string>> = {
  ARCHIVE_BUCKET: 'bench',
  STATE_TABLE: 'bench',
  WORK_QUEUE_URL: 'http://127.0.0.1:9/000000000000/bench',
  SESSION_SECRET_ID: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

/** CPU and wall time of `import(url)` in a fresh Node process (median of `runs`). */
export async function importCost(url: string, env: Record<string, string>, runs = 3): Promise<ImportCost> {
  const script = `const c0 = process.cpuUsage(); const t0 = performance.now();
    await import(${JSON.stringify(url)});
    const c = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 }));`;
  const costs: ImportCost[] = [];
  for (let i = 0; i < runs; i++) {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
      });
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`import exited ${code}: ${err.slice(0, 500)}`)),
      );
    });
    costs.push(JSON.parse(output) as ImportCost);
  }
  costs.sort((a, b) => a.cpuMs - b.cpuMs);
  return costs[Math.floor(costs.length / 2)] as ImportCost;
}

export const fileUrl = (path: string): string => pathToFileURL(path).href;
