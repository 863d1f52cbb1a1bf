import { describe, expect, it } from 'vitest';
import { LIVE_VIDEO_NAMES as DOMAIN_LIVE_VIDEO_NAMES } from '#domain/plan/live-video-name.ts';
import { VERSION_POLICY_WORDS as DOMAIN_VERSION_POLICY_WORDS } from '#domain/plan/version-policy.ts';
import {
  envNameOf,
  InfraConfigError,
  LIVE_VIDEO_NAMES,
  loadInfraConfig,
  VERSION_POLICY_WORDS,
} from '../../infra/config.ts';

const fromContext = (context: Record<string, unknown>) =>
  loadInfraConfig((key) => context[key.replace(/^icloudS3:/, '')], {});

const problemsOf = (load: () => unknown): string[] => {
  try {
    load();
  } catch (error) {
    if (error instanceof InfraConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected InfraConfigError');
};

describe('deployment settings', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = fromContext({});
    expect(config).toEqual({
      stackName: 'IcloudS3',
      alarmEmail: undefined,
      scheduleMinutes: 15,
      downloadConcurrency: 5,
      deletePolicy: 'keep',
      maxDeleteFraction: 0.05,
      maxDeleteCount: 1000,
      versionPolicy: 'default',
      liveVideoName: 'suffix',
      sharedAlbums: true,
      sharedAlbumsEveryMinutes: 0,
      xmpSidecars: false,
      kmsEncryption: false,
      objectLockMode: 'none',
      objectLockDays: 30,
      noncurrentExpiryDays: 90,
      transitionClass: 'INTELLIGENT_TIERING',
      transitionDays: 0,
      noSyncAlarmHours: 12,
      queueAgeAlarmHours: 12,
      logRetentionDays: 30,
      icloudEndpoint: 'apple',
      sessionAdminArns: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads typed values from cdk.json context and strings from `cdk -c`', () => {
    const config = fromContext({ scheduleMinutes: 60, kmsEncryption: 'true', maxDeleteFraction: '0.2' });
    expect([config.scheduleMinutes, config.kmsEncryption, config.maxDeleteFraction]).toEqual([60, true, 0.2]);
  });

  it('lets an ICLOUD_S3_* environment variable win over context', () => {
    const config = loadInfraConfig((key) => (key === 'icloudS3:scheduleMinutes' ? 30 : undefined), {
      ICLOUD_S3_SCHEDULE_MINUTES: '45',
    });
    expect(config.scheduleMinutes).toBe(45);
  });

  it('names the setting, the rule, the value and both places to fix it', () => {
    expect(problemsOf(() => fromContext({ scheduleMinutes: 'abc' }))).toEqual([
      'icloudS3:scheduleMinutes must be an integer from 5 to 1440 (got "abc"); set it in cdk.json context or ICLOUD_S3_SCHEDULE_MINUTES',
    ]);
  });

  it('reports every invalid setting at once', () => {
    const problems = problemsOf(() =>
      fromContext({
        downloadConcurrency: 1,
        deletePolicy: 'purge',
        alarmEmail: 'not-an-address',
        logRetentionDays: 10,
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^icloudS3:alarmEmail must be an email address \(got "not-an-address"\); .*ICLOUD_S3_ALARM_EMAIL$/,
      ),
      expect.stringMatching(
        /^icloudS3:downloadConcurrency must be an integer from 2 to 20 .*\(got 1\); .*ICLOUD_S3_DOWNLOAD_CONCURRENCY$/,
      ),
      expect.stringMatching(/^icloudS3:deletePolicy must be one of keep, mirror \(got "purge"\)/),
      expect.stringMatching(
        /^icloudS3:logRetentionDays must be one of the CloudWatch Logs retention periods .*\(got 10\)/,
      ),
    ]);
  });

  it('rejects a fractional schedule and a delete fraction above 1', () => {
    const problems = problemsOf(() => fromContext({ scheduleMinutes: '7.5', maxDeleteFraction: 1.5 }));
    expect(problems.map((p) => p.split(' must ')[0])).toEqual([
      'icloudS3:scheduleMinutes',
      'icloudS3:maxDeleteFraction',
    ]);
  });

  it('rejects an unknown object lock mode and transition class', () => {
    const problems = problemsOf(() =>
      fromContext({ objectLockMode: 'forever', transitionClass: 'DEEP_ARCHIVE' }),
    );
    expect(problems).toEqual([
      expect.stringContaining(
        'icloudS3:objectLockMode must be one of none, governance, compliance (got "forever")',
      ),
      expect.stringContaining(
        'icloudS3:transitionClass must be one of none, INTELLIGENT_TIERING, GLACIER_IR (got "DEEP_ARCHIVE")',
      ),
    ]);
  });

  it('rejects a no-sync alarm window shorter than two scheduled runs', () => {
    expect(problemsOf(() => fromContext({ scheduleMinutes: 360, noSyncAlarmHours: 6 }))).toEqual([
      'icloudS3:noSyncAlarmHours must cover at least two runs: with icloudS3:scheduleMinutes = 360 that is at least 12 (got 6); set it in cdk.json context or ICLOUD_S3_NO_SYNC_ALARM_HOURS',
    ]);
  });

  it('rejects object lock days without an object lock mode', () => {
    expect(problemsOf(() => fromContext({ objectLockDays: 365 }))).toEqual([
      expect.stringMatching(
        /^icloudS3:objectLockDays is set but icloudS3:objectLockMode is "none"; set .*ICLOUD_S3_OBJECT_LOCK_MODE/,
      ),
    ]);
  });

  it('rejects transition days when transitions are off', () => {
    expect(problemsOf(() => fromContext({ transitionClass: 'none', transitionDays: 30 }))).toEqual([
      expect.stringContaining('icloudS3:transitionDays is set but icloudS3:transitionClass is "none"'),
    ]);
  });

  it('refuses compliance-mode retention longer than ten years', () => {
    expect(problemsOf(() => fromContext({ objectLockMode: 'compliance', objectLockDays: 36_500 }))).toEqual([
      expect.stringContaining('icloudS3:objectLockDays must be at most 3650 in compliance mode'),
    ]);
  });

  it('accepts the version policy words the handlers accept, and rejects others', () => {
    expect(fromContext({ versionPolicy: 'default,-adjusted,medium' }).versionPolicy).toBe(
      'default,-adjusted,medium',
    );
    expect(problemsOf(() => fromContext({ versionPolicy: 'original,raw' }))[0]).toMatch(
      /^icloudS3:versionPolicy must be a comma-separated list of default, original, live/,
    );
    expect(problemsOf(() => fromContext({ versionPolicy: '-original' }))).toHaveLength(1);
  });

  it('reads the Live Photo video naming, and names the valid values for another', () => {
    expect(fromContext({ liveVideoName: 'original' }).liveVideoName).toBe('original');
    expect(problemsOf(() => fromContext({ liveVideoName: 'hevc' }))).toEqual([
      expect.stringMatching(/^icloudS3:liveVideoName must be one of suffix, original/),
    ]);
  });

  it('knows the same Live Photo video namings as the domain', () => {
    expect([...LIVE_VIDEO_NAMES]).toEqual([...DOMAIN_LIVE_VIDEO_NAMES]);
  });

  it('knows the same version policy words as the domain', () => {
    expect([...VERSION_POLICY_WORDS].sort()).toEqual([...DOMAIN_VERSION_POLICY_WORDS].sort());
  });

  it('reads administrator ARNs for the session secret as a comma-separated list, and rejects a non-ARN', () => {
    expect(
      fromContext({ sessionAdminArns: 'arn:aws:iam::123456789012:role/Admin, arn:aws:iam::*:role/Photos*' })
        .sessionAdminArns,
    ).toEqual(['arn:aws:iam::123456789012:role/Admin', 'arn:aws:iam::*:role/Photos*']);
    expect(() => fromContext({ sessionAdminArns: 'Admin' })).toThrow(/icloudS3:sessionAdminArns must be/);
  });

  it('derives environment variable names from setting names', () => {
    expect(envNameOf('noSyncAlarmHours')).toBe('ICLOUD_S3_NO_SYNC_ALARM_HOURS');
  });
});
