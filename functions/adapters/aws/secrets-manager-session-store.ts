/**
 * `SessionStore` on a Secrets Manager secret. The revision is the secret version's VersionId.
 *
 * Compare-and-set: with `expectedRevision`, `save` first reads which version is `AWSCURRENT`
 * (DescribeSecret) and refuses with `ConflictError` if it is not the expected one, then writes
 * a new version. Secrets Manager has no conditional put, so a writer that slips in between
 * those two calls (a window of one round trip, tens of milliseconds) is not detected; the
 * pipeline's detection lock keeps the Lambda writers apart, and a lost session costs a re-login,
 * never archive data.
 *
 * Each save sends a fresh ClientRequestToken; the SDK reuses it when it retries that request,
 * so a retried put is idempotent instead of creating a second version. (A token derived from
 * the content would turn a later save of an earlier document into a silent no-op.)
 *
 * Reads are cached for `cacheTtlMs` (a Lambda keeps the session between warm invocations
 * without a GetSecretValue each time); a save refreshes the cache with what it wrote.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConflictError } from '../../domain/errors.ts';
import type { SessionStore, StoredSession } from '../../ports/session-store.ts';

export interface SecretsManagerSessionStoreOptions {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  /** How long a read is reused (ms); 0 reads every time. */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ResourceNotFoundException';
}

export class SecretsManagerSessionStore implements SessionStore {
  private readonly client: SecretsManagerClient;
  private readonly secretId: string;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private cached: { readonly session: StoredSession | undefined; readonly at: number } | undefined;

  constructor(options: SecretsManagerSessionStoreOptions) {
    this.client = options.client;
    this.secretId = options.secretId;
    this.cacheTtlMs = options.cacheTtlMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  async load(): Promise<StoredSession | undefined> {
    if (this.cached !== undefined && this.now() - this.cached.at < this.cacheTtlMs)
      return this.cached.session;
    let session: StoredSession | undefined;
    try {
      const output = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: 'AWSCURRENT' }),
      );
      if (output.SecretString !== undefined && output.VersionId !== undefined) {
        session = { document: output.SecretString, revision: output.VersionId };
      }
    } catch (error) {
      // A secret without a value (as provisioned) reads as "no session yet".
      if (!isNotFound(error)) throw error;
    }
    this.cached = { session, at: this.now() };
    return session;
  }

  async save(document: string, expectedRevision?: string): Promise<{ readonly revision: string }> {
    if (expectedRevision !== undefined) {
      const current = await this.currentVersionId();
      if (current !== expectedRevision) {
        this.cached = undefined;
        throw new ConflictError(`the session in ${this.describe()} changed since it was read`);
      }
    }
    const token = randomUUID();
    const output = await this.client.send(
      new PutSecretValueCommand({
        SecretId: this.secretId,
        SecretString: document,
        ClientRequestToken: token,
      }),
    );
    const revision = output.VersionId ?? token;
    this.cached = { session: { document, revision }, at: this.now() };
    return { revision };
  }

  describe(): string {
    return `secret ${this.secretId}`;
  }

  private async currentVersionId(): Promise<string | undefined> {
    const output = await this.client.send(new DescribeSecretCommand({ SecretId: this.secretId }));
    const stages = Object.entries(output.VersionIdsToStages ?? {});
    return stages.find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
  }
}
