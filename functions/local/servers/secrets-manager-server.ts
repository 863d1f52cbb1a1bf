/**
 * Local Secrets Manager: no emulator that installs offline from npm exists, so this is a small real one over
 * the AWS JSON 1.1 protocol with the four operations the session store and `login` use:
 * CreateSecret, GetSecretValue, PutSecretValue, DescribeSecret. Versions behave as in AWS:
 * a put moves `AWSCURRENT` to the new version and `AWSPREVIOUS` to the old current one; a
 * `ClientRequestToken` is the VersionId, idempotent for the same value and a
 * `ResourceExistsException` for another.
 *
 * AWS's limits hold here too, no stricter and no more lenient ("AWS Secrets Manager quotas",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html, and
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html):
 * a SecretString of more than 65,536 bytes is refused (`ValidationException`, as AWS's input
 * validation answers); and a version that loses its last staging label is kept, since Secrets
 * Manager removes such versions only when a secret has more than 100 and only once they are
 * 24 hours old, so a put that would make a 101st version it cannot remove yet is refused
 * (`LimitExceededException`). That is what a writer saving more than about once every
 * 14 minutes, all day, meets on AWS.
 *
 * With `file`, every change is written through to that JSON file (mode 0600, replaced atomically and fsynced)
 * and loaded on start, so the one-machine runtime keeps its session across restarts.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { isZodError } from '#domain/errors.ts';
import { replaceFileDurably } from '#shared/replace-file.ts';
import * as z from '#shared/zod.ts';
import { closeServer, listenOnLoopback } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
/** The SecretString limit (bytes, UTF-8). */
const MAX_SECRET_STRING_BYTES = 65_536;
/** Versions a secret may hold; AWS removes unlabelled ones beyond it once they are a day old. */
const MAX_VERSIONS = 100;
const REMOVABLE_AFTER_SECONDS = 24 * 60 * 60;

const versionSchema = z.strictObject({
  secretString: z.optional(z.string()),
  createdDate: z.number(),
  stages: z.array(z.string()),
});
const secretSchema = z.strictObject({
  name: z.string(),
  arn: z.string(),
  description: z.optional(z.string()),
  createdDate: z.number(),
  lastChangedDate: z.number(),
  versions: z.record(z.string(), versionSchema),
});
const fileSchema = z.strictObject({ secrets: z.array(secretSchema) });

type StoredSecret = z.infer<typeof secretSchema>;

class ApiError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

const requestSchemas = {
  CreateSecret: z.object({
    Name: z.string().check(z.minLength(1)),
    SecretString: z.optional(z.string()),
    ClientRequestToken: z.optional(z.string()),
    Description: z.optional(z.string()),
  }),
  GetSecretValue: z.object({
    SecretId: z.string().check(z.minLength(1)),
    VersionId: z.optional(z.string()),
    VersionStage: z.optional(z.string()),
  }),
  PutSecretValue: z.object({
    SecretId: z.string().check(z.minLength(1)),
    SecretString: z.string(),
    ClientRequestToken: z.optional(z.string()),
  }),
  DescribeSecret: z.object({ SecretId: z.string().check(z.minLength(1)) }),
} as const;

type Operation = keyof typeof requestSchemas;

/** AWS's answer to a SecretString over the limit (its input validation, HTTP 400). */
function checkSecretStringSize(secretString: string | undefined): void {
  if (secretString === undefined || Buffer.byteLength(secretString, 'utf8') <= MAX_SECRET_STRING_BYTES)
    return;
  throw new ApiError(
    'ValidationException',
    `1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SECRET_STRING_BYTES}`,
  );
}

export interface SecretsManagerStateOptions {
  /** The clock (ms) that dates versions: tests move it to age them past 24 hours. */
  readonly now?: () => number;
}

export class SecretsManagerState {
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly file: string | undefined;
  private readonly now: () => number;

  constructor(file?: string, options: SecretsManagerStateOptions = {}) {
    this.file = file;
    this.now = options.now ?? Date.now;
  }

  private nowSeconds(): number {
    return this.now() / 1000;
  }

  async load(): Promise<void> {
    if (this.file === undefined) return;
    const text = await readFile(this.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return;
    for (const secret of fileSchema.parse(JSON.parse(text)).secrets) this.secrets.set(secret.name, secret);
  }

  private async persist(): Promise<void> {
    if (this.file === undefined) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    await replaceFileDurably(this.file, JSON.stringify({ secrets: [...this.secrets.values()] }), {
      mode: 0o600,
    });
  }

  /** Writes the change through, or takes it back with `undo`: nothing is served that the file lacks. */
  private async persistOr(undo: () => void): Promise<void> {
    try {
      await this.persist();
    } catch (error) {
      undo();
      throw error;
    }
  }

  private find(secretId: string): StoredSecret {
    const secret = this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.arn === secretId);
    if (secret === undefined) {
      throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return secret;
  }

  private addVersion(secret: StoredSecret, secretString: string, token: string | undefined): string {
    const versionId = token ?? randomUUID();
    const existing = secret.versions[versionId];
    if (existing !== undefined) {
      if (existing.secretString === secretString) return versionId;
      throw new ApiError(
        'ResourceExistsException',
        'You can’t modify an existing version, you can only create a new version.',
      );
    }
    const before = new Map(Object.values(secret.versions).map((version) => [version, version.stages]));
    const now = this.nowSeconds();
    for (const version of Object.values(secret.versions)) {
      version.stages = version.stages.filter((stage) => stage !== PREVIOUS);
      if (version.stages.includes(CURRENT)) {
        version.stages = [...version.stages.filter((stage) => stage !== CURRENT), PREVIOUS];
      }
    }
    const removable = (version: z.infer<typeof versionSchema>) =>
      version.stages.length === 0 && now - version.createdDate >= REMOVABLE_AFTER_SECONDS;
    const versions = Object.entries(secret.versions);
    const kept = versions.filter(([, version]) => !removable(version)).length;
    if (kept + 1 > MAX_VERSIONS) {
      // Put the labels back where they were: the refused put changes nothing.
      for (const [, version] of versions) version.stages = before.get(version) ?? [];
      throw new ApiError(
        'LimitExceededException',
        `The request failed because it would exceed the quota of ${MAX_VERSIONS} versions of the secret: versions without a staging label are removed only once they are 24 hours old.`,
      );
    }
    // Secrets Manager removes unlabelled versions (the oldest first) only beyond the quota.
    const oldestFirst = versions
      .filter(([, version]) => removable(version))
      .sort(([, a], [, b]) => a.createdDate - b.createdDate);
    let count = versions.length + 1;
    for (const [id] of oldestFirst) {
      if (count <= MAX_VERSIONS) break;
      delete secret.versions[id];
      count -= 1;
    }
    secret.versions[versionId] = { secretString, createdDate: now, stages: [CURRENT] };
    secret.lastChangedDate = now;
    return versionId;
  }

  async handle(operation: Operation, input: unknown): Promise<Record<string, unknown>> {
    switch (operation) {
      case 'CreateSecret': {
        const request = requestSchemas.CreateSecret.parse(input);
        checkSecretStringSize(request.SecretString);
        if (this.secrets.has(request.Name)) {
          throw new ApiError(
            'ResourceExistsException',
            `The operation failed because the secret ${request.Name} already exists.`,
          );
        }
        const suffix = randomUUID().slice(0, 6);
        const secret: StoredSecret = {
          name: request.Name,
          arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${request.Name}-${suffix}`,
          createdDate: this.nowSeconds(),
          lastChangedDate: this.nowSeconds(),
          versions: {},
          ...(request.Description !== undefined && { description: request.Description }),
        };
        const versionId =
          request.SecretString === undefined
            ? undefined
            : this.addVersion(secret, request.SecretString, request.ClientRequestToken);
        this.secrets.set(secret.name, secret);
        await this.persistOr(() => this.secrets.delete(secret.name));
        return {
          ARN: secret.arn,
          Name: secret.name,
          ...(versionId !== undefined && { VersionId: versionId }),
        };
      }
      case 'GetSecretValue': {
        const request = requestSchemas.GetSecretValue.parse(input);
        const secret = this.find(request.SecretId);
        const stage = request.VersionStage ?? (request.VersionId === undefined ? CURRENT : undefined);
        const entry = Object.entries(secret.versions).find(
          ([id, version]) =>
            (request.VersionId === undefined || id === request.VersionId) &&
            (stage === undefined || version.stages.includes(stage)),
        );
        if (entry === undefined) {
          throw new ApiError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for staging label: ${stage ?? CURRENT}`,
          );
        }
        const [versionId, version] = entry;
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: versionId,
          SecretString: version.secretString,
          VersionStages: version.stages,
          CreatedDate: version.createdDate,
        };
      }
      case 'PutSecretValue': {
        const request = requestSchemas.PutSecretValue.parse(input);
        checkSecretStringSize(request.SecretString);
        const secret = this.find(request.SecretId);
        const before = structuredClone(secret);
        const versionId = this.addVersion(secret, request.SecretString, request.ClientRequestToken);
        await this.persistOr(() => this.secrets.set(before.name, before));
        return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [CURRENT] };
      }
      case 'DescribeSecret': {
        const request = requestSchemas.DescribeSecret.parse(input);
        const secret = this.find(request.SecretId);
        return {
          ARN: secret.arn,
          Name: secret.name,
          CreatedDate: secret.createdDate,
          LastChangedDate: secret.lastChangedDate,
          // Only versions with a label: the others are deprecated, as AWS lists them.
          VersionIdsToStages: Object.fromEntries(
            Object.entries(secret.versions)
              .filter(([, version]) => version.stages.length > 0)
              .map(([id, version]) => [id, version.stages]),
          ),
          ...(secret.description !== undefined && { Description: secret.description }),
        };
      }
    }
  }
}

function isOperation(name: string): name is Operation {
  return Object.hasOwn(requestSchemas, name);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

async function serve(
  state: SecretsManagerState,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
  if (request.method !== 'POST' || !isOperation(operation)) {
    reply(response, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` });
    return;
  }
  try {
    const input: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    reply(response, 200, await state.handle(operation, input));
  } catch (error) {
    if (error instanceof ApiError) reply(response, 400, { __type: error.type, message: error.message });
    else if (isZodError(error) || error instanceof SyntaxError) {
      reply(response, 400, { __type: 'InvalidParameterException', message: 'invalid request' });
    } else reply(response, 500, { __type: 'InternalServiceError', message: 'internal error' });
  }
}

/** Starts the fake on 127.0.0.1 with an ephemeral port; with `file`, secrets persist there. */
export async function startSecretsManagerServer(
  options: { file?: string } & SecretsManagerStateOptions = {},
): Promise<LocalServer> {
  const state = new SecretsManagerState(options.file, options.now === undefined ? {} : { now: options.now });
  await state.load();
  const server = createServer((request, response) => {
    void serve(state, request, response);
  });
  const port = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}
