/**
 * The deployed pipeline's count stop (`MAX_DELETE_COUNT`, default 1,000) has a deployment setting:
 * without one, a mirror purge over 1,000 objects could never be let through on AWS
 * (docs/reliability.md, finding 120).
 */
import { describe, expect, it } from 'vitest';
import { InfraConfigError, loadInfraConfig } from '../../infra/config.ts';

describe('icloudS3:maxDeleteCount', () => {
  it('is read from the context and ICLOUD_S3_MAX_DELETE_COUNT (which wins)', () => {
    const context = (key: string) => (key === 'icloudS3:maxDeleteCount' ? '5000' : undefined);
    expect(loadInfraConfig(context, {}).maxDeleteCount).toBe(5000);
    expect(loadInfraConfig(context, { ICLOUD_S3_MAX_DELETE_COUNT: '7000' }).maxDeleteCount).toBe(7000);
    expect(loadInfraConfig(() => undefined, {}).maxDeleteCount).toBe(1000);
  });

  it('must be a whole number of objects', () => {
    expect(() => loadInfraConfig(() => undefined, { ICLOUD_S3_MAX_DELETE_COUNT: '12.5' })).toThrow(
      InfraConfigError,
    );
    expect(() => loadInfraConfig(() => undefined, { ICLOUD_S3_MAX_DELETE_COUNT: '-1' })).toThrow(
      /icloudS3:maxDeleteCount must be a whole number of objects/,
    );
  });
});
