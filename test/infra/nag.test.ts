import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ALL_OPTIONS, unacknowledgedNagFindings } from './synth.ts';

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack with default settings', () => {
    expect(unacknowledgedNagFindings()).toEqual([]);
  });

  it('finds nothing unacknowledged with KMS, Object Lock, tiering and email on', () => {
    expect(unacknowledgedNagFindings(ALL_OPTIONS)).toEqual([]);
  });

  it('fails synthesis on a finding (the check can fail)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'icloud-s3-cdk-out-'));
    const app = new App({ outdir });
    new Bucket(new Stack(app, 'Careless'), 'PlainHttpBucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
