import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const biome = path.join(root, 'node_modules', '.bin', 'biome');

/** Lints a probe file importing `specifier` from inside `folder`; true when biome refuses the import. */
async function refused(folder: string, specifier: string): Promise<boolean> {
  const file = path.join(root, folder, `boundary-probe-${randomUUID().slice(0, 8)}.ts`);
  await writeFile(file, `import * as probe from '${specifier}';\n\nexport const value = probe;\n`);
  try {
    await promisify(execFile)(biome, ['lint', '--only=style/noRestrictedImports', file], { cwd: root });
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code === 1) return true;
    throw error;
  } finally {
    await rm(file, { force: true });
  }
}

describe('import boundaries (biome noRestrictedImports)', () => {
  it.each([
    ['functions/domain/plan', '#adapters/aws/s3-object-store.ts'],
    ['functions/domain/plan', '../../adapters/aws/s3-object-store.ts'],
    ['functions/domain/model', '@aws-sdk/client-s3'],
    ['functions/domain', '#app/detection-run.ts'],
    ['functions/ports', '#shared/config.ts'],
    ['functions/ports', '#domain/plan/object-key.ts'],
    ['functions/adapters/aws', '#app/verify.ts'],
    ['functions/adapters/aws', '#domain/archive/archive-asset.ts'],
    ['functions/app', '@aws-sdk/client-s3'],
    ['functions/app', 'aws-lambda'],
    ['functions/app', '#compose/lambda.ts'],
    ['functions/app', '#adapters/aws/s3-object-store.ts'],
    ['functions/compose', '#entry/lambda/detect-handler.ts'],
    ['functions/entry/lambda', '#adapters/aws/s3-object-store.ts'],
    ['functions/entry/lambda', '#domain/detect/detect-changes.ts'],
    ['functions/cli/commands', '#entry/lambda/detect-handler.ts'],
    ['functions/cli/commands', '@aws-sdk/client-s3'],
    ['functions/local', '#cli/context.ts'],
    ['functions/shared', '#domain/errors.ts'],
    ['simulator', '#domain/model/asset.ts'],
    ['infra', '#compose/lambda.ts'],
    // Classic zod, whole in a Lambda bundle (functions/shared/zod.ts gives zod/mini).
    ['functions/domain/catalog', 'zod'],
    ['functions/adapters/icloud', 'zod'],
    ['functions/shared', 'zod/mini'],
  ])('refuses an import from %s of %s', async (folder, specifier) => {
    expect(await refused(folder, specifier)).toBe(true);
  });

  it.each([
    ['functions/domain/plan', '#ports/sync-state-store.ts'],
    ['functions/ports', '#domain/model/zone.ts'],
    ['functions/adapters/aws', '#domain/model/work.ts'],
    ['functions/app', '#domain/detect/detect-changes.ts'],
    ['functions/compose', '#adapters/aws/s3-object-store.ts'],
    ['functions/entry/lambda', '#app/detection-run.ts'],
    ['functions/cli/commands', '#compose/cli.ts'],
    ['functions/local', '#entry/lambda/download-handler.ts'],
    ['functions/adapters/aws', '#shared/zod.ts'],
    ['functions/local', 'zod'],
  ])('accepts an import from %s of %s', async (folder, specifier) => {
    expect(await refused(folder, specifier)).toBe(false);
  });
});
