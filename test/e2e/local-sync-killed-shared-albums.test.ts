/**
 * A sync killed while its downloads ran (found by the fault matrix: `…|download|sigkill-process`
 * and `…|sigkill-group`) lost the Shared Albums' queued work for an hour. The local queue lives in
 * the killed process, so the next sync re-walks the library (the unclean-stop marker), but the
 * Shared Albums' state still said their items were handed to the workers moments ago: detection
 * skipped them until `REQUEUE_AFTER_MS` (an hour) had passed, every sync in between said "idle",
 * and `verify` found nothing wrong, since no item was recorded. After an unclean stop the next
 * sync hands Shared Albums' unfinished work out again, as it re-walks the library.
 *
 * (The sync after the kill takes about a minute: it waits out the transfer leases the killed
 * workers held, `TRANSFER_LEASE_MS`.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { readBucketContents } from '#test/helpers/bucket-contents.ts';
import { sharedAlbumDifferences } from '#test/helpers/fault-matrix/derived-checks.ts';
import { syncAndKill } from '#test/helpers/fault-matrix/process-case.ts';
import { type MatrixWorld, openWorld } from '#test/helpers/fault-matrix/world.ts';
import { runCli } from '#test/helpers/run-cli.ts';

let dir: string;
let world: MatrixWorld;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-killed-shared-'));
  world = await openWorld(join(dir, 'world'), { assets: 6, seed: 31 });
});

afterAll(async () => {
  await world?.sim.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function sharedAlbumsMissing(dataDir: string): Promise<string[]> {
  const bucket = await readBucketContents(dataDir);
  const stack = await openLocalAwsStack({ dataDir });
  try {
    const me = (await world.control.session()).dsid;
    return await sharedAlbumDifferences(
      world.control,
      me,
      stack.sharedAlbumState,
      new Set(bucket.objects.keys()),
    );
  } finally {
    await stack.stop();
  }
}

describe('a sync after one killed during its downloads', () => {
  it("archives the Shared Albums' items the killed run had queued", async () => {
    const dataDir = join(dir, 'data');
    const common = [
      '--local',
      dataDir,
      '--endpoint',
      world.sim.controlUrl,
      '--session-file',
      world.sessionFile,
    ];
    // Slow downloads, so the kill lands with the Shared Albums' work still queued.
    await world.control.injectFault({ endpoint: 'cdn', delayMs: 40 });
    const kill = await syncAndKill(world, ['sync', ...common, '--json'], 'cdn', 2, true);
    expect(kill.killed).toBe(true);
    await world.control.clearFaults();

    const next = await runCli(['sync', ...common, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(await sharedAlbumsMissing(dataDir)).toEqual([]);
  });
});
