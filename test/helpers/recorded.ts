/**
 * Where the recorded exchanges with Apple live: `../shared/fixtures/recorded` beside the
 * repository (as on every developer machine and in CI), or `ICLOUD_S3_RECORDED_DIR`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export const RECORDED_DIR =
  process.env['ICLOUD_S3_RECORDED_DIR'] ??
  path.resolve(repositoryRoot, '..', 'shared', 'fixtures', 'recorded');

if (!existsSync(RECORDED_DIR)) {
  throw new Error(
    `the recorded exchanges are missing at ${RECORDED_DIR}: check out shared/ beside the repository or set ICLOUD_S3_RECORDED_DIR`,
  );
}

/** A file under the recordings, e.g. `recordedPath('icloudpd', 'listing_photos.json')`. */
export const recordedPath = (...parts: string[]): string => path.join(RECORDED_DIR, ...parts);
