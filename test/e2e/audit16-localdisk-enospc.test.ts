/**
 * Audit 16 (scratch): `sync --local DIR` with DIR on a disk that fills up mid-run (a real tmpfs,
 * mounted in a user+mount namespace: `unshare -rm`, no root), then a second run once space is
 * freed. Expected: the first run stops with a clear error, the second ends with an archive equal
 * to the library, and `verify` finds nothing wrong.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['-rm', 'sh', '-c', script],
      { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

function du(path: string): number {
  const out = spawnSync('du', ['-sk', path], { encoding: 'utf8' }).stdout;
  return Number(out.split(/\s/)[0]);
}

const SCALE = Number(process.env['AUDIT16_SCALE'] ?? 0.01);
const FRACTIONS = (process.env['AUDIT16_FRACTIONS'] ?? '0.2').split(',').map(Number);

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 30, seed: 16, mediaScale: SCALE });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-audit16-enospc-'));
  await signInToSimulator(sim, join(dir, 'session.json'));
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string) =>
  `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(CLI)} ${args} --session-file ${JSON.stringify(join(dir, 'session.json'))} --endpoint ${sim.controlUrl}`;

describe.skipIf(!canUnshare)('a disk that fills up during sync --local', () => {
  it.each(FRACTIONS)(
    'stops with a clear error (free = %s of the archive), and the next run completes the archive',
    async (fraction) => {
      // The archive's size on a roomy disk.
      const ref = join(dir, `ref-${fraction}`);
      const reference = await sh(`${cli(`sync --json --local ${ref}`)}`);
      expect(reference.code, reference.stderr).toBe(0);
      const needKb = du(ref);
      const freeKb = Math.max(64, Math.floor(needKb * fraction));
      const mnt = join(dir, `mnt-${fraction}`);
      const out = join(dir, `out-${fraction}`);
      const data = join(mnt, 'data');
      const script = [
        'set -u',
        `mkdir -p ${mnt} ${out}`,
        `mount -t tmpfs -o size=${needKb * 4 + 4096}k tmpfs ${mnt}`,
        // Fill the disk, then free `freeKb` of it.
        `dd if=/dev/zero of=${mnt}/filler bs=64k 2>/dev/null || true`,
        `truncate -s -${freeKb}k ${mnt}/filler`,
        `${cli(`sync --json --local ${data}`)} >${out}/run1.out 2>${out}/run1.err; echo $? >${out}/run1.code`,
        // Again while the disk is still full: what does the person read?
        `${cli(`sync --json --local ${data}`)} >${out}/run1b.out 2>${out}/run1b.err; echo $? >${out}/run1b.code`,
        `rm -f ${mnt}/filler`,
        `${cli(`sync --json --local ${data}`)} >${out}/run2.out 2>${out}/run2.err; echo $? >${out}/run2.code`,
        `${cli(`sync --json --local ${data}`)} >${out}/run3.out 2>${out}/run3.err; echo $? >${out}/run3.code`,
        `${cli(`verify --json --local ${data}`)} >${out}/verify.out 2>${out}/verify.err; echo $? >${out}/verify.code`,
        `cp -a ${data} ${out}/data`,
      ].join('\n');
      const ran = await sh(script);
      const file = (name: string) => readFile(join(out, name), 'utf8').catch(() => '(none)');
      const report = {
        needKb,
        freeKb,
        ran: ran.stderr.slice(0, 2000),
        run1: [await file('run1.code'), await file('run1.err'), (await file('run1.out')).slice(0, 1500)] as [
          string,
          string,
          string,
        ],
        run1b: [
          await file('run1b.code'),
          await file('run1b.err'),
          (await file('run1b.out')).slice(0, 1500),
        ] as [string, string, string],
        run2: [await file('run2.code'), await file('run2.err'), (await file('run2.out')).slice(0, 1500)] as [
          string,
          string,
          string,
        ],
        run3: [await file('run3.code'), await file('run3.err'), (await file('run3.out')).slice(0, 600)] as [
          string,
          string,
          string,
        ],
        verify: [
          await file('verify.code'),
          await file('verify.err'),
          (await file('verify.out')).slice(0, 1500),
        ] as [string, string, string],
      };
      await writeFile(
        join(tmpdir(), `audit16-enospc-${SCALE}-${fraction}.json`),
        JSON.stringify(report, null, 2),
      );
      const text = JSON.stringify(report, null, 2);

      // The first run fails, and says the disk is full.
      expect(report.run1[0].trim(), text).not.toBe('0');
      expect(`${report.run1[1]}${report.run1[2]}`, text).toMatch(/ENOSPC|no space|disk is full|space left/i);
      // Under --json, stdout carries exactly one JSON object (docs/commands.md), failures included.
      expect
        .soft(
          () => JSON.parse(report.run1[2]),
          `run 1 stdout: ${JSON.stringify(report.run1[2])}; stderr: ${report.run1[1].slice(0, 300)}`,
        )
        .not.toThrow();
      // A run while the disk is still full: the folder is fine, it must not be called damaged.
      expect.soft(`${report.run1b[1]}`, 'run 1b (disk still full)').not.toMatch(/damaged|Move it aside/);
      // The runs after space came back succeed, and verify agrees.
      expect(report.run2[0].trim(), text).toBe('0');
      expect(report.verify[0].trim(), text).toBe('0');
      const truth = (await controlClient(sim).library<{ assets: TruthAsset[] }>()).assets;
      const digests = (await readLocalArchive(join(out, 'data'))).map((o) => o.metadata['icloud-sha256']);
      expect(new Set(digests)).toEqual(expectedDigests(truth));
    },
    600_000,
  );
});
