import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repositoryRoot = join(import.meta.dirname, '..', '..');
const outdir = mkdtempSync(join(tmpdir(), 'icloud-s3-cdk-synth-'));

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

/** The pinned CDK CLI, exactly as a user runs it before `cdk deploy`: cdk.json, infra/app.ts, cdk-nag. */
function cdkSynth(env: Record<string, string> = {}) {
  return spawnSync(
    process.execPath,
    [
      join(repositoryRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
      'synth',
      '--quiet',
      '--no-notices',
      '--output',
      outdir,
    ],
    {
      cwd: repositoryRoot,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', ...env },
      encoding: 'utf8',
    },
  );
}

describe('cdk synth (the CLI, offline)', () => {
  it('synthesises the stack with cdk-nag and bundles both handlers', () => {
    const run = cdkSynth();
    expect(run.status, run.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'IcloudS3.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses an invalid setting with a message that names it and the fix', () => {
    const run = cdkSynth({ ICLOUD_S3_SCHEDULE_MINUTES: 'often' });
    expect(run.status).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/scheduleMinutes/);
    expect(run.stderr + run.stdout).toMatch(/ICLOUD_S3_SCHEDULE_MINUTES/);
  });
});
