/**
 * The version `icloud-s3 --version` prints: package.json's. Imported as a JSON module (typed by the
 * compiler) rather than read by a path relative to this file, so the compiled CLI in `dist/`, which
 * sits at another depth, prints the same version.
 */
import packageJson from '../../../package.json' with { type: 'json' };

export function packageVersion(): string {
  return packageJson.version;
}
