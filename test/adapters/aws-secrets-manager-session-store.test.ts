import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { localAwsClientConfig } from '#local/servers/client-config.ts';
import { ensureSecret } from '#local/servers/provision.ts';
import { SecretsManagerState, startSecretsManagerServer } from '#local/servers/secrets-manager-server.ts';
import { describeSessionStoreContract } from '#test/fakes/contracts/session-store-contract.ts';
import { watchFileSyncs } from '#test/helpers/file-syncs.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

describeSessionStoreContract('SecretsManagerSessionStore on the local fake', async () => {
  const secretId = await local.createSecret();
  return [
    new SecretsManagerSessionStore({ client: local.secretsManager, secretId }),
    new SecretsManagerSessionStore({ client: local.secretsManager, secretId }),
  ] as const;
});

describe('SecretsManagerSessionStore', () => {
  it('serves a warm read from its cache until the TTL passes', async () => {
    const secretId = await local.createSecret();
    let now = 0;
    const cached = new SecretsManagerSessionStore({
      client: local.secretsManager,
      secretId,
      cacheTtlMs: 30_000,
      now: () => now,
    });
    const writer = new SecretsManagerSessionStore({ client: local.secretsManager, secretId });
    await writer.save('one');
    expect((await cached.load())?.document).toBe('one');
    await writer.save('two');
    expect((await cached.load())?.document).toBe('one');
    now += 30_000;
    expect((await cached.load())?.document).toBe('two');
  });

  it('keeps the replaced session as AWSPREVIOUS', async () => {
    const secretId = await local.createSecret();
    const store = new SecretsManagerSessionStore({ client: local.secretsManager, secretId });
    const first = await store.save('one');
    await store.save('two', first.revision);
    const previous = await local.secretsManager.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: first.revision });
  });

  it('makes a document saved again current again', async () => {
    const secretId = await local.createSecret();
    const store = new SecretsManagerSessionStore({ client: local.secretsManager, secretId });
    await store.save('one');
    await store.save('two');
    const again = await store.save('one');
    expect(await new SecretsManagerSessionStore({ client: local.secretsManager, secretId }).load()).toEqual({
      document: 'one',
      revision: again.revision,
    });
  });

  it('names the secret, never its value, in describe()', () => {
    const store = new SecretsManagerSessionStore({
      client: local.secretsManager,
      secretId: 'icloud-s3/session',
    });
    expect(store.describe()).toBe('secret icloud-s3/session');
  });
});

describe('the local Secrets Manager server', () => {
  it('keeps secrets across a restart in its file, readable only by the owner', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-secrets-'));
    const file = path.join(dir, 'secrets.json');
    try {
      const first = await startSecretsManagerServer({ file });
      const endpoints = { s3: '', dynamodb: '', sqs: '', secretsManager: first.endpoint };
      const client1 = new SecretsManagerClient(localAwsClientConfig(endpoints).secretsManager);
      await ensureSecret(client1, 'icloud-s3/session');
      const saved = await new SecretsManagerSessionStore({
        client: client1,
        secretId: 'icloud-s3/session',
      }).save('kept');
      client1.destroy();
      await first.stop();

      const second = await startSecretsManagerServer({ file });
      const client2 = new SecretsManagerClient(
        localAwsClientConfig({ ...endpoints, secretsManager: second.endpoint }).secretsManager,
      );
      const loaded = await new SecretsManagerSessionStore({
        client: client2,
        secretId: 'icloud-s3/session',
      }).load();
      client2.destroy();
      await second.stop();
      expect(loaded).toEqual({ document: 'kept', revision: saved.revision });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers a request its schema refuses with InvalidParameterException, as Secrets Manager does', async () => {
    const server = await startSecretsManagerServer();
    try {
      const response = await fetch(server.endpoint, {
        method: 'POST',
        headers: {
          'x-amz-target': 'secretsmanager.GetSecretValue',
          'content-type': 'application/x-amz-json-1.1',
        },
        body: JSON.stringify({ SecretId: '' }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        __type: 'InvalidParameterException',
        message: 'invalid request',
      });
    } finally {
      await server.stop();
    }
  });
});

describe("the local Secrets Manager's file", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // The file holds the Apple ID session: a power loss must not leave it empty.
  it('is fsynced before the rename, its directory after, and stays 0600', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-secrets-'));
    const file = path.join(dir, 'secrets.json');
    try {
      const state = new SecretsManagerState(file);
      const syncs = await watchFileSyncs(dir);
      await state.handle('CreateSecret', { Name: 'icloud-s3/session', SecretString: 'kept' });

      expect(syncs.kinds).toEqual(['file', 'dir']);
      expect(JSON.parse(await readFile(file, 'utf8')).secrets[0].name).toBe('icloud-s3/session');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readdir(dir)).toEqual(['secrets.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps its previous content, and no temporary file, when a write fails', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-secrets-'));
    const file = path.join(dir, 'secrets.json');
    try {
      const state = new SecretsManagerState(file);
      await state.handle('CreateSecret', { Name: 'icloud-s3/session', SecretString: 'kept' });
      const previous = await readFile(file, 'utf8');
      const syncs = await watchFileSyncs(dir);
      syncs.spy.mockRejectedValueOnce(Object.assign(new Error('I/O error'), { code: 'EIO' }));

      await expect(
        state.handle('PutSecretValue', { SecretId: 'icloud-s3/session', SecretString: 'lost' }),
      ).rejects.toThrow('I/O error');

      expect(await readFile(file, 'utf8')).toBe(previous);
      expect(await readdir(dir)).toEqual(['secrets.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
