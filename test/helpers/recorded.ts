/**
 * The recorded exchanges with Apple, kept in the repository under `test/fixtures/recorded`
 * (see its README for their source and licence). The largest is stored gzipped;
 * `readRecordedJson` reads either form.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const RECORDED_DIR = fileURLToPath(new URL('../fixtures/recorded', import.meta.url));

/** A file under the recordings, e.g. `recordedPath('icloudpd', 'listing_photos.json')`. */
export const recordedPath = (...parts: string[]): string => path.join(RECORDED_DIR, ...parts);

/** The parsed JSON of a recording, whether it is stored plain or as `<name>.gz`. */
export function readRecordedJson(...parts: string[]): unknown {
  const file = recordedPath(...parts);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  return JSON.parse(gunzipSync(readFileSync(`${file}.gz`)).toString('utf8'));
}

/** The cassette names of a recording folder, `.json` or `.json.gz`, without the extension. */
export const recordedNames = (names: readonly string[]): string[] =>
  names.filter((n) => /\.json(\.gz)?$/.test(n)).map((n) => n.replace(/\.json(\.gz)?$/, ''));
