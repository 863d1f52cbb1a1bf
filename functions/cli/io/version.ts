/** The version `icloud-s3 --version` prints: package.json's, read once. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const PackageJson = z.looseObject({ version: z.string().min(1) });

export function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return PackageJson.parse(JSON.parse(readFileSync(url, 'utf8'))).version;
}
