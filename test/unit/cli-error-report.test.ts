import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import * as classic from 'zod';
import {
  AccountConditionError,
  InvalidInputError,
  PHOTOS_UNAVAILABLE_HINT,
  RateLimitedError,
  SessionExpiredError,
} from '#domain/errors.ts';
import * as mini from '#shared/zod.ts';
import { errorResult, reportError } from '../../functions/cli/io/error-report.ts';
import { UsageError } from '../../functions/cli/io/exit-codes.ts';

/** What undici's fetch throws when the connection is refused or the name does not resolve. */
function fetchFailed(cause: Record<string, unknown>): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect failed'), cause) });
}

describe('reportError', () => {
  it('turns commander errors into the usage code, without commander’s prefix, naming the command’s help', () => {
    const error = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--bogus'");
    expect(reportError(error, 'icloud-s3 sync')).toEqual({
      code: 'usage',
      message: "unknown option '--bogus'",
      hint: 'Run: icloud-s3 sync --help',
      exitCode: 2,
    });
  });

  it('gives every class a kebab-case code and its documented exit code', () => {
    expect(reportError(new UsageError('no Apple ID')).code).toBe('usage');
    expect(
      reportError(new SessionExpiredError('expired', { action: 'icloud-s3 login --force' })),
    ).toMatchObject({
      code: 'needs-login',
      hint: 'Run: npx icloud-s3 login --force',
      exitCode: 3,
    });
    expect(reportError(new AccountConditionError('security-key', 'keys'))).toMatchObject({
      code: 'account-refused',
      condition: 'security-key',
      exitCode: 4,
    });
    // The photo library not served (ZONE_NOT_FOUND, ACCESS_DENIED): the hint names the settings that help.
    expect(
      reportError(new AccountConditionError('photosUnavailable', `no: ${PHOTOS_UNAVAILABLE_HINT}`)).hint,
    ).toContain('Access iCloud Data on the Web');
    expect(reportError(new InvalidInputError('bad'))).toMatchObject({ code: 'invalid-input', exitCode: 2 });
    // A schema of ours refusing a value: classic zod (the CLI's own) and zod/mini (what it shares
    // with the Lambda functions) name their errors differently.
    expect(reportError(classic.string().safeParse(1).error)).toMatchObject({
      code: 'invalid-input',
      exitCode: 2,
    });
    expect(reportError(mini.string().safeParse(1).error)).toMatchObject({
      code: 'invalid-input',
      exitCode: 2,
    });
    expect(reportError(new RateLimitedError('slow', { retryAfterSeconds: 30 }))).toMatchObject({
      code: 'rate-limited',
      hint: 'Wait 30 s, then try again.',
      exitCode: 1,
    });
    expect(reportError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatchObject({
      code: 'internal',
      exitCode: 1,
    });
  });

  it('says which AWS setting is missing and how to give it, instead of the SDK’s bare sentence', () => {
    // What the AWS SDK throws with no region anywhere (no --region, AWS_REGION or profile region).
    expect(reportError(new Error('Region is missing'))).toEqual({
      code: 'aws',
      message: 'no AWS region: none was given and none is configured',
      hint: "Pass --region with the stack's region (e.g. --region eu-west-1), or set AWS_REGION, or --profile NAME with a region in ~/.aws/config.",
      exitCode: 1,
    });
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(reportError(noCredentials)).toMatchObject({
      code: 'aws',
      message: 'no AWS credentials: Could not load credentials from any providers',
      hint: 'Pass --profile NAME (a profile of ~/.aws/config, signed in with aws sso login if it uses SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      exitCode: 1,
    });
  });

  it('names the host of a network failure instead of a bare "fetch failed"', () => {
    expect(
      reportError(fetchFailed({ code: 'ENOTFOUND', hostname: 'p42-ckdatabasews.icloud.com' })),
    ).toMatchObject({
      code: 'network',
      message: 'cannot reach p42-ckdatabasews.icloud.com (ENOTFOUND)',
      exitCode: 1,
    });
    expect(reportError(fetchFailed({ code: 'ECONNREFUSED', address: '127.0.0.1', port: 4567 })).message).toBe(
      'cannot reach 127.0.0.1:4567 (ECONNREFUSED)',
    );
  });

  it('counts a request that got no answer in time as a network failure', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(reportError(timeout)).toMatchObject({ code: 'network', exitCode: 1 });
  });

  it('says a missing file does not exist', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x.json'"), {
      code: 'ENOENT',
      path: 'x.json',
    });
    expect(reportError(enoent)).toMatchObject({
      code: 'file-not-found',
      message: 'x.json does not exist',
      exitCode: 2,
    });
    expect(reportError(new InvalidInputError('wrapped', { cause: enoent } as never)).code).toBe(
      'file-not-found',
    );
  });

  it('names AWS failures and points at credentials and names', () => {
    const aws = Object.assign(new Error('The security token included in the request is invalid.'), {
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(reportError(aws)).toMatchObject({ code: 'aws', exitCode: 1 });
  });
});

describe('reportError on text from Apple', () => {
  it('keeps no bare token, signed URL or Apple ID in the message of an error of any class', () => {
    const apple =
      'answered AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr for jane.appleseed@example.com at https:\\/\\/cvws.icloud-content.com\\/B\\/x?s=SigQ9xTz4Kp';
    for (const error of [
      new SessionExpiredError(apple),
      new RateLimitedError(apple),
      new Error(apple),
      apple,
    ]) {
      const { message } = reportError(error);
      expect(message).toContain('answered');
      expect(message).not.toContain('AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr');
      expect(message).not.toContain('jane.appleseed');
      expect(message).not.toContain('SigQ9xTz4Kp');
    }
  });
});

describe('errorResult', () => {
  it('has one shape: status error, error { code, message, hint }', () => {
    expect(errorResult(reportError(new UsageError('pass either --aws or --local, not both')))).toEqual({
      status: 'error',
      error: {
        code: 'usage',
        message: 'pass either --aws or --local, not both',
        hint: 'Run: npx icloud-s3 --help',
      },
      exitCode: 2,
    });
  });
});

describe('reportError on a data folder that cannot be written (reliability findings 107, 108)', () => {
  it('reports a full disk as disk-full, wherever the ENOSPC sits, with what to do', () => {
    const node = Object.assign(new Error("ENOSPC: no space left on device, write '/data/aws/s3/x'"), {
      code: 'ENOSPC',
    });
    // The local DynamoDB's 500 answer, as the SDK throws it: LevelDB's reason in the message.
    const dynamo = Object.assign(
      new Error(
        'local DynamoDB storage failed: IO error: /data/aws/dynamodb/000012.log: No space left on device',
      ),
      { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } },
    );
    const wrapped = new Error('archiving IMG_0001.JPG failed', { cause: node });
    for (const error of [node, dynamo, wrapped]) {
      expect(reportError(error)).toMatchObject({
        code: 'disk-full',
        hint: expect.stringMatching(/^Free some space .* nothing is lost/),
        exitCode: 1,
      });
    }
    expect(reportError(new Error('something else')).code).toBe('internal');
  });

  it('reports an unwritable local DynamoDB folder by its reason, never as internal', async () => {
    const { LocalFolderUnwritableError } = await import('#local/servers/dynamodb-server.ts');
    expect(reportError(new LocalFolderUnwritableError('read-only', 'read-only'))).toMatchObject({
      code: 'folder-not-writable',
      hint: expect.stringMatching(/leave it where it is/),
      exitCode: 1,
    });
    expect(reportError(new LocalFolderUnwritableError('denied', 'permission')).code).toBe(
      'folder-not-writable',
    );
    expect(reportError(new LocalFolderUnwritableError('full', 'disk-full')).code).toBe('disk-full');
  });
});
