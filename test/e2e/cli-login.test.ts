import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { type LocalAwsStack, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import { DEFAULT_DELETE_POLICY } from '#domain/plan/delete-policy.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import { ensureSecret } from '#local/servers/provision.ts';
import { createLogger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const repositoryRoot = join(import.meta.dirname, '..', '..');
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let stack: LocalAwsStack;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `icloud-s3 login` as a person's script would: password from ICLOUD_PASSWORD, the
 * two-factor code typed on stdin once the simulated iPhone received it.
 */
function login(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        'bin/icloud-s3.mjs',
        'login',
        '--endpoint',
        sim.controlUrl,
        '--apple-id',
        sim.appleId,
        '--json',
        ...args,
      ],
      { cwd: repositoryRoot, env: { ...process.env, ICLOUD_PASSWORD: sim.password, ...env }, stdio: 'pipe' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // Type the code once the CLI asks for it: only then has it pushed the code to the device
    // (a code read earlier would be replaced by that push).
    let typed = false;
    const typeCode = async () => {
      if (typed || !/verification code/i.test(stdout + stderr)) return;
      typed = true;
      child.stdin.end(`${await control.code(sim.appleId)}\n`);
    };
    child.stdout.on('data', () => void typeCode());
    child.stderr.on('data', () => void typeCode());
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 20 });
  control = controlClient(sim);
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-login-'));
  stack = await openLocalAwsStack({ dataDir: join(dir, 'local') });
});

afterAll(async () => {
  await stack?.stop();
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('icloud-s3 login', () => {
  it('signs in non-interactively with the code from stdin and stores the session with mode 0600', async () => {
    const sessionFile = join(dir, 'session.json');
    const run = await login(['--session-file', sessionFile]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'signed-in', appleId: sim.appleId, sessionFile });
    expect((await stat(sessionFile)).mode & 0o777).toBe(0o600);
    const stored = await readFile(sessionFile, 'utf8');
    expect(stored).not.toContain(sim.password);
    expect(run.stdout + run.stderr).not.toContain(sim.password);
  });

  it('with --aws stores the session in the secret, and the detector runs from it with no other step', async () => {
    const secretId = 'icloud-s3/session';
    const secrets = new SecretsManagerClient(stack.clientConfig.secretsManager);
    await ensureSecret(secrets, secretId);
    const run = await login(['--aws', '--secret-id', secretId, '--remember-password'], {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.endpoints.secretsManager,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    });
    expect(run.code, run.stderr).toBe(0);

    const store = new SecretsManagerSessionStore({ client: secrets, secretId, cacheTtlMs: 0 });
    const logger = createLogger({ level: 'SILENT' });
    const endpoint = await resolveEndpoint(sim.controlUrl);
    const detect = createDetectHandler({
      state: stack.state,
      queue: stack.queue,
      icloud: () => openIcloudAdapters({ endpoint, store, logger }),
      deletePolicy: DEFAULT_DELETE_POLICY,
      reserveMs: 1_000,
      logger,
      metrics: new CollectedMetrics(),
    });
    await control.resetStats();
    const result = await detect({}, createLambdaContext('detect-changes', 60_000));
    expect(result.outcome).toBe('caughtUp');
    const stats = await control.stats();
    expect(stats.requests['signin/init'] ?? 0).toBe(0);
    expect(stats.requests['accountLogin'] ?? 0).toBe(0);
    secrets.destroy();
  });
});
