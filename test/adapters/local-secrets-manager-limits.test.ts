/**
 * The local Secrets Manager enforces AWS's two limits a session store can meet, no stricter and no
 * more lenient ("AWS Secrets Manager quotas", docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html,
 * and the PutSecretValue API reference):
 * - a SecretString holds at most 65,536 bytes; a longer one is refused with `ValidationException`;
 * - Secrets Manager removes versions without a staging label only when a secret has more than
 *   100 and only those created 24 hours ago or earlier: a put that would make a 101st version it
 *   cannot remove yet is refused with `LimitExceededException`.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsClientConfig } from '#local/servers/client-config.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSecretsManagerServer } from '#local/servers/secrets-manager-server.ts';

const HOUR = 60 * 60 * 1000;
const MAX_BYTES = 65_536;

let server: LocalServer;
let client: SecretsManagerClient;
let now = Date.UTC(2026, 11, 6, 12);
let names = 0;

beforeAll(async () => {
  server = await startSecretsManagerServer({ now: () => now });
  const endpoints = { s3: '', dynamodb: '', sqs: '', secretsManager: server.endpoint };
  client = new SecretsManagerClient(localAwsClientConfig(endpoints).secretsManager);
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

async function newSecret(secretString?: string): Promise<string> {
  names += 1;
  const name = `limits/secret-${names}`;
  await client.send(
    new CreateSecretCommand({
      Name: name,
      ...(secretString === undefined ? {} : { SecretString: secretString }),
    }),
  );
  return name;
}

const put = (secretId: string, value: string) =>
  client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));

async function putTimes(secretId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await put(secretId, `value-${i}`);
}

describe('the SecretString size limit', () => {
  it('takes 65,536 bytes and refuses one more, on PutSecretValue and CreateSecret', async () => {
    const name = await newSecret();
    await expect(put(name, 'x'.repeat(MAX_BYTES))).resolves.toMatchObject({ Name: name });

    await expect(put(name, 'x'.repeat(MAX_BYTES + 1))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length less than or equal to 65536'),
    });
    await expect(
      client.send(
        new CreateSecretCommand({ Name: 'limits/too-big', SecretString: 'x'.repeat(MAX_BYTES + 1) }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: 'limits/too-big' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('counts bytes, not characters', async () => {
    const name = await newSecret();
    // 'é' is two bytes in UTF-8.
    await expect(put(name, 'é'.repeat(MAX_BYTES / 2))).resolves.toBeDefined();
    await expect(put(name, `${'é'.repeat(MAX_BYTES / 2)}x`)).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe('the versions quota', () => {
  it('takes 100 versions in a day and refuses the 101st with LimitExceededException, keeping the current value', async () => {
    const name = await newSecret('first');
    await putTimes(name, 99);

    await expect(put(name, 'one too many')).rejects.toMatchObject({ name: 'LimitExceededException' });
    const current = await client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(current.SecretString).toBe('value-98');
  });

  it('lets a put through again once the oldest versions are 24 hours old', async () => {
    const name = await newSecret();
    await putTimes(name, 50);
    now += 12 * HOUR;
    await putTimes(name, 50);
    await expect(put(name, 'refused')).rejects.toMatchObject({ name: 'LimitExceededException' });

    now += 12 * HOUR - 1000;
    await expect(put(name, 'still refused')).rejects.toMatchObject({ name: 'LimitExceededException' });
    now += 1000;
    // The first 50 are 24 hours old now: Secrets Manager may remove them.
    await putTimes(name, 50);
    await expect(put(name, 'refused again')).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('takes a full 100 again a day later, when every older version may go', async () => {
    const name = await newSecret();
    await putTimes(name, 100);
    now += 25 * HOUR;
    await putTimes(name, 100);
    await expect(put(name, 'refused')).rejects.toMatchObject({ name: 'LimitExceededException' });
    // The refused put moved no label: the last value stays current.
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('value-99');
  });

  it('lists only the labelled versions in DescribeSecret, as Secrets Manager does', async () => {
    const name = await newSecret('one');
    await putTimes(name, 3);
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(Object.values(described.VersionIdsToStages ?? {}).sort()).toEqual([
      ['AWSCURRENT'],
      ['AWSPREVIOUS'],
    ]);
  });

  it('creates no version for a retried put (same ClientRequestToken and value)', async () => {
    const name = await newSecret();
    await putTimes(name, 99);
    const token = '11111111-2222-3333-4444-555555555555';
    const send = () =>
      client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'last', ClientRequestToken: token }),
      );
    await send();
    await expect(send()).resolves.toMatchObject({ VersionId: token });
  });
});
