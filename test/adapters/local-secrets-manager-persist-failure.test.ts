/**
 * The local Secrets Manager with a file (the one-machine runtime's session) answers a change only
 * once it is on disk, and a change it could not write is not served either: the put fails, reads
 * still return what the file holds, and a restart finds the same. (It used to change its memory
 * first and write after: a failed write left it serving a version no file had.)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localAwsClientConfig } from '#local/servers/client-config.ts';
import type { LocalServer } from '#local/servers/s3-server.ts';
import { startSecretsManagerServer } from '#local/servers/secrets-manager-server.ts';

let dir: string;
let file: string;
let server: LocalServer | undefined;
const clients: SecretsManagerClient[] = [];

async function start(): Promise<SecretsManagerClient> {
  server = await startSecretsManagerServer({ file });
  const endpoints = { s3: '', dynamodb: '', sqs: '', secretsManager: server.endpoint };
  const client = new SecretsManagerClient({
    ...localAwsClientConfig(endpoints).secretsManager,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-secrets-persist-'));
  file = path.join(dir, 'secrets.json');
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.stop();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const current = async (client: SecretsManagerClient) =>
  (await client.send(new GetSecretValueCommand({ SecretId: 'icloud-s3/session' }))).SecretString;

describe('a change the local Secrets Manager cannot write to its file', () => {
  it('fails the put and is not served, now or after a restart', async () => {
    const client = await start();
    await client.send(new CreateSecretCommand({ Name: 'icloud-s3/session', SecretString: 'first' }));

    // The file's place taken by a non-empty directory: the atomic replace cannot rename onto it.
    await rm(file);
    await mkdir(file);
    await writeFile(path.join(file, 'blocker'), '');
    await expect(
      client.send(new PutSecretValueCommand({ SecretId: 'icloud-s3/session', SecretString: 'second' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(await current(client)).toBe('first');

    // The place freed again: the next put is written and served.
    await rm(file, { recursive: true });
    await client.send(new PutSecretValueCommand({ SecretId: 'icloud-s3/session', SecretString: 'third' }));
    expect(await current(client)).toBe('third');
    await server?.stop();
    server = undefined;
    expect(await current(await start())).toBe('third');
  });
});
