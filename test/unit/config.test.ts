import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#shared/config.ts';
import { ENV } from '#shared/env-names.ts';

const complete = {
  [ENV.archiveBucket]: 'my-archive',
  [ENV.stateTable]: 'state',
  [ENV.workQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/work',
  [ENV.sessionSecretId]: 'icloud-s3/session',
};

describe('loadConfig', () => {
  it('applies the documented defaults when only the required variables are set', () => {
    const config = loadConfig(complete);
    expect(config).toMatchObject({
      deletePolicy: 'keep',
      maxDeleteFraction: 0.05,
      maxDeleteCount: 1000,
      uploadPartSizeMiB: 8,
      uploadQueueSize: 4,
    });
  });

  it('says the bucket has Object Lock only when ARCHIVE_OBJECT_LOCK is true, and refuses another value', () => {
    expect(loadConfig(complete).archiveObjectLock).toBe(false);
    expect(loadConfig({ ...complete, [ENV.archiveObjectLock]: 'true' }).archiveObjectLock).toBe(true);
    expect(loadConfig({ ...complete, [ENV.archiveObjectLock]: 'false' }).archiveObjectLock).toBe(false);
    expect(() => loadConfig({ ...complete, [ENV.archiveObjectLock]: 'governance' })).toThrowError(
      /ARCHIVE_OBJECT_LOCK is invalid/,
    );
  });

  it('names a HEIC Live Photo video `suffix` unless LIVE_VIDEO_NAME is original, and refuses another value', () => {
    expect(loadConfig(complete).liveVideoName).toBe('suffix');
    expect(loadConfig({ ...complete, [ENV.liveVideoName]: 'original' }).liveVideoName).toBe('original');
    expect(loadConfig({ ...complete, [ENV.liveVideoName]: 'suffix' }).liveVideoName).toBe('suffix');
    expect(() => loadConfig({ ...complete, [ENV.liveVideoName]: 'IMG_0001.MOV' })).toThrowError(
      /LIVE_VIDEO_NAME is invalid/,
    );
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig(complete))).toBe(true);
  });

  it('names every missing variable in one error', () => {
    expect(() => loadConfig({})).toThrowError(
      /ARCHIVE_BUCKET is not set.*STATE_TABLE is not set.*WORK_QUEUE_URL is not set.*SESSION_SECRET_ID is not set/,
    );
  });

  it('names an invalid variable with the reason', () => {
    const error = (() => {
      try {
        loadConfig({ ...complete, [ENV.deletePolicy]: 'purge-everything' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/DELETE_POLICY is invalid/);
  });

  it('treats an empty string as unset', () => {
    expect(() => loadConfig({ ...complete, [ENV.archiveBucket]: '' })).toThrowError(
      /ARCHIVE_BUCKET is not set/,
    );
  });

  it('says why a variable is invalid in English where nothing else loads zod, as in a Lambda function', async () => {
    // zod/mini has no messages of its own ("Invalid input" for every issue): functions/shared/zod.ts
    // sets the English ones. A fresh process, since classic zod (which sets them when it loads)
    // may already be loaded in this one.
    const script = `
      import { loadConfig } from '#shared/config.ts';
      try { loadConfig({ ${JSON.stringify(ENV.uploadQueueSize)}: '99', ${JSON.stringify(ENV.archiveBucket)}: 'ab' }); }
      catch (error) { console.log(error.message); }`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: join(import.meta.dirname, '..', '..') },
    );
    expect(stdout).toContain('ARCHIVE_BUCKET is invalid: Too small: expected string to have >=3 characters');
    expect(stdout).toContain('UPLOAD_QUEUE_SIZE is invalid: Too big: expected number to be <=16');
  });
});
