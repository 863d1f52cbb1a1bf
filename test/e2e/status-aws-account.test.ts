/**
 * `--region` and `--profile` on the `--aws` commands: without them a person whose profile names
 * no region met "Region is missing". The stack's table is a local DynamoDB here
 * (`AWS_ENDPOINT_URL_DYNAMODB`); the region and the credentials come only from the options.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

const CLI = join(import.meta.dirname, '../../functions/cli/main.ts');
let local: TestAws;
let dir: string;
let table: string;

/** A shell with no AWS settings but a credentials file holding one profile, `archive`. */
function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        env: {
          ...env,
          NO_COLOR: '1',
          AWS_CONFIG_FILE: join(dir, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
          AWS_ENDPOINT_URL_DYNAMODB: local.aws.endpoints.dynamodb,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  local = await startTestAws();
  table = await local.createTable();
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-aws-account-'));
  await writeFile(join(dir, 'config'), '');
  await writeFile(
    join(dir, 'credentials'),
    '[archive]\naws_access_key_id = AKIDLOCAL\naws_secret_access_key = local-secret\n',
  );
});

afterAll(async () => {
  await local?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('status --aws --region --profile', () => {
  const target = () => ['status', '--aws', '--bucket', 'archive', '--table', table, '--json'];

  it('reads the stack in the region and with the profile it is given', async () => {
    const { code, stdout, stderr } = await cli([
      ...target(),
      '--region',
      'eu-west-3',
      '--profile',
      'archive',
    ]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'ok', lastCheckedAt: null });
  });

  it('without them, says the region is missing (the fault the options fix)', async () => {
    const { code, stdout } = await cli(target());
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.message).toMatch(/region/i);
  });
});
