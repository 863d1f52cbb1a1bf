/**
 * `sync --local DIR` with DIR on a disk that fills up mid-run (a real tmpfs, mounted in a
 * user+mount namespace: `unshare -rm`, no root; skipped where that is not allowed), a run while
 * it is still full, then one once space is freed (reliability findings 107 and 108).
 *
 * The run that meets the full disk ends with the one JSON object `--json` promises and the
 * `disk-full` code, whichever write hit it first: the local DynamoDB's (dynalite threw LevelDB's
 * error in a callback: an uncaught exception, a stack trace and no JSON) or the local S3's
 * (`internal`). The run while the disk is still full is told the same, never that the state is
 * damaged and to move it aside. The run after space came back completes the archive and `verify`
 * agrees.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { expectedDigests, readLocalArchive, type TruthAsset } from '#test/helpers/local-archive.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

const canUnshare =
  spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /tmp'], { stdio: 'ignore' })
    .status === 0;

/** Runs `script` in its own user+mount namespace. */
function sh(script: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-rm', 'sh', '-c', script],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stderr }),
    );
  });
}

function du(path: string): number {
  const out = spawnSync('du', ['-sk', path], { encoding: 'utf8' }).stdout;
  return Number(out.split(/\s/)[0]);
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 12, seed: 16, mediaScale: 0.01 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-disk-full-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string) =>
  `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(CLI)} ${args} --session-file ${JSON.stringify(join(dir, 'session.json'))} --endpoint ${sim.controlUrl}`;

interface Run {
  readonly code: string;
  readonly stderr: string;
  readonly stdout: string;
}

describe.skipIf(!canUnshare)('a disk that fills up during sync --local', () => {
  it('stops with disk-full (one JSON object), says so again while full, and the next run completes the archive', async () => {
    // The archive's size on a roomy disk; the full disk leaves a fifth of it free.
    const reference = join(dir, 'reference');
    const measured = await sh(cli(`sync --json --local ${reference}`));
    expect(measured.code, measured.stderr).toBe(0);
    const needKb = du(reference);
    const freeKb = Math.max(64, Math.floor(needKb * 0.2));
    const mnt = join(dir, 'mnt');
    const out = join(dir, 'out');
    const data = join(mnt, 'data');
    const run = (name: string, args: string) =>
      `${cli(args)} >${out}/${name}.out 2>${out}/${name}.err; echo $? >${out}/${name}.code`;
    const ran = await sh(
      [
        'set -u',
        `mkdir -p ${mnt} ${out}`,
        `mount -t tmpfs -o size=${needKb * 4 + 4096}k tmpfs ${mnt}`,
        // Fill the disk, then free `freeKb` of it.
        `dd if=/dev/zero of=${mnt}/filler bs=64k 2>/dev/null || true`,
        `truncate -s -${freeKb}k ${mnt}/filler`,
        run('full', `sync --json --local ${data}`),
        run('stillFull', `sync --json --local ${data}`),
        `rm -f ${mnt}/filler`,
        run('freed', `sync --json --local ${data}`),
        run('verify', `verify --json --local ${data}`),
        `cp -a ${data} ${out}/data`,
      ].join('\n'),
    );
    const read = async (name: string): Promise<Run> => {
      const file = (ext: string) => readFile(join(out, `${name}.${ext}`), 'utf8').catch(() => '(none)');
      return { code: (await file('code')).trim(), stderr: await file('err'), stdout: await file('out') };
    };
    const full = await read('full');
    const stillFull = await read('stillFull');
    const freed = await read('freed');
    const verify = await read('verify');
    const said = (r: Run) =>
      `exit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}\n${ran.stderr.slice(0, 500)}`;

    for (const r of [full, stillFull]) {
      // Under --json, stdout carries exactly one JSON object (docs/commands.md), failures included.
      const result = JSON.parse(r.stdout) as { error: { code: string; hint: string } };
      expect({ exit: r.code, code: result.error.code }, said(r)).toEqual({ exit: '1', code: 'disk-full' });
      expect(result.error.hint, said(r)).toMatch(/Free some space/);
      expect(`${r.stdout}${r.stderr}`, said(r)).not.toMatch(/it is damaged|Move it aside|\n\s+at /);
    }
    expect(freed.code, said(freed)).toBe('0');
    expect(verify.code, said(verify)).toBe('0');
    const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
    const digests = (await readLocalArchive(join(out, 'data'))).map((o) => o.metadata['icloud-sha256']);
    expect(new Set(digests)).toEqual(expectedDigests(truth));
  }, 600_000);
});
