/**
 * Audit 16 (scratch evidence): the deployed pipeline's count stop. `MAX_DELETE_COUNT` (default
 * 1,000) caps every mirror run (functions/compose/lambda.ts reads it), but no deployment setting
 * sets it: the `DeletionRefused` runbook (docs/deploy.md) says to redeploy with a higher
 * `maxDeleteFraction`, which cannot let a purge of more than 1,000 objects through, so the zone
 * stops at that page on every run.
 */
import { describe, expect, it } from 'vitest';
import { loadInfraConfig } from '../../infra/config.ts';

describe('audit16: a deployed mirror purge over 1,000 objects', () => {
  it('has a deployment setting that raises MAX_DELETE_COUNT', () => {
    const config = loadInfraConfig((key) => (key === 'icloudS3:maxDeleteCount' ? '5000' : undefined), {
      ICLOUD_S3_MAX_DELETE_COUNT: '5000',
    }) as unknown as Record<string, unknown>;
    expect(config['maxDeleteCount'], 'icloudS3:maxDeleteCount / ICLOUD_S3_MAX_DELETE_COUNT').toBe(5000);
  });
});
