import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
import { type CliLoginRun, runCliLogin } from '#test/helpers/cli-login.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let dir: string;
let stack: LocalAwsStack;

/** `icloud-s3 login --json …` answered like a person's script (see runCliLogin). */
const login = (args: readonly string[], env: Record<string, string> = {}) =>
  runCliLogin(sim, control, ['--json', ...args], env);

interface SignInSteps {
  readonly performed: Record<string, boolean>;
  readonly steps: readonly { step: string; status: number }[];
}

/** Codes the account received: each request that sends one and, before 2026, signin/complete's own push. */
async function codesSent(authFlow: '2025' | '2026'): Promise<number> {
  const { steps } = await control.call<SignInSteps>(
    'GET',
    `/accounts/steps?appleId=${encodeURIComponent(sim.appleId)}`,
  );
  const ok = (s: { status: number }) => s.status >= 200 && s.status < 300;
  const sending = steps.filter((s) => ['push-trigger', 'sms-sent', 'old-trigger'].includes(s.step) && ok(s));
  const bySignIn =
    authFlow === '2025' ? steps.filter((s) => s.step === 'signin-complete' && s.status === 409) : [];
  return sending.length + bySignIn.length;
}

const resultOf = (run: CliLoginRun) =>
  JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;

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

beforeEach(async () => {
  await control.setFlags({
    appleId: sim.appleId,
    authFlow: '2026',
    escrow: null,
    escrowEnforced: false,
    codeAnswerWithoutSessionToken: false,
    bridgeRouted: false,
    authJsonShape: 'top-level',
    phoneNonFTEU: false,
    noTrustedDevices: false,
    fido: false,
  });
  await control.call('DELETE', '/accounts/steps');
  // Eleven sign-ins in a row exceed the simulator's SRP throttle (ten an hour, as Apple's).
  await control.resetThrottle();
  await control.resetStats();
});

let sessionNo = 0;
const sessionFile = () => join(dir, `session-${++sessionNo}.json`);

describe('icloud-s3 login', () => {
  it('signs in non-interactively with the code from stdin and stores the session with mode 0600', async () => {
    const file = sessionFile();
    const run = await login(['--session-file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(resultOf(run)).toMatchObject({ status: 'signed-in', appleId: sim.appleId, sessionFile: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = await readFile(file, 'utf8');
    expect(stored).not.toContain(sim.password);
    expect(run.stdout + run.stderr).not.toContain(sim.password);
  });

  it("without --apple-id takes the stored session's Apple ID: still valid, then --force signs in again", async () => {
    const file = sessionFile();
    expect((await login(['--session-file', file])).code).toBe(0);

    const check = await runCliLogin(sim, control, ['--json', '--session-file', file], {}, false);
    const again = await runCliLogin(sim, control, ['--json', '--force', '--session-file', file], {}, false);

    expect(check.code, check.stderr).toBe(0);
    expect(resultOf(check)).toMatchObject({ status: 'already-signed-in', appleId: sim.appleId });
    expect(again.code, again.stderr).toBe(0);
    expect(resultOf(again)).toMatchObject({ status: 'signed-in', appleId: sim.appleId, sessionFile: file });
  });

  it('without --apple-id and without a stored session fails with a usage error naming --apple-id', async () => {
    const run = await runCliLogin(sim, control, ['--json', '--session-file', sessionFile()], {}, false);

    expect(run.code).toBe(2);
    const result = resultOf(run);
    expect(result).toMatchObject({ status: 'error', error: { code: 'usage' } });
    const error = result['error'] as { message: string; hint: string };
    expect(error.message).toContain('--apple-id');
    expect(error.hint).toContain('--apple-id');
  });

  const modes: {
    name: string;
    flags: Record<string, unknown>;
    args?: readonly string[];
    /** What the script typed: `""` asked Apple for the code. */
    typed: readonly ('' | 'code')[];
    requests: number;
  }[] = [
    { name: 'Apple 2026 (default)', flags: {}, typed: ['', 'code'], requests: 7 },
    {
      name: 'Apple 2026 by SMS',
      flags: { phoneNonFTEU: true },
      args: ['--sms', '1'],
      typed: ['code'],
      requests: 7,
    },
    {
      name: 'Apple 2026 with EDP escrow',
      flags: { escrow: 'EDP', escrowEnforced: true },
      typed: ['', 'code'],
      requests: 9,
    },
    {
      name: 'Apple 2026 with PDP escrow',
      flags: { escrow: 'PDP', escrowEnforced: true },
      typed: ['', 'code'],
      requests: 9,
    },
    {
      name: 'Apple 2026, 409 without a session token',
      flags: { codeAnswerWithoutSessionToken: true },
      typed: ['', 'code'],
      requests: 7,
    },
    {
      name: 'Apple 2026, bridge-routed account',
      flags: { bridgeRouted: true, authJsonShape: 'none' },
      typed: ['', 'code'],
      requests: 7,
    },
    {
      name: 'Apple 2026, no trusted device (the code comes by SMS without --sms)',
      flags: { noTrustedDevices: true },
      typed: ['code'],
      requests: 7,
    },
    {
      name: 'Apple 2025 (code pushed at sign-in)',
      flags: { authFlow: '2025' },
      typed: ['code'],
      requests: 6,
    },
  ];
  for (const mode of modes) {
    it(`signs in non-interactively with exactly one code: ${mode.name}`, async () => {
      await control.setFlags({ appleId: sim.appleId, ...mode.flags });
      const run = await login(['--session-file', sessionFile(), ...(mode.args ?? [])]);
      expect(run.code, run.stderr).toBe(0);
      expect(resultOf(run)).toMatchObject({ status: 'signed-in', appleId: sim.appleId });
      expect(run.typed.map((t) => (t === '' ? '' : 'code'))).toEqual(mode.typed);
      expect(await codesSent(mode.flags['authFlow'] === '2025' ? '2025' : '2026')).toBe(1);
      expect((await control.stats()).total).toBe(mode.requests);
    });
  }

  it('fails with a clear message for a security-key account, before any code', async () => {
    await control.setFlags({ appleId: sim.appleId, fido: true });
    const run = await login(['--session-file', sessionFile()]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/protected by security keys \("YubiKey 5C"\).*remove the keys/);
    expect(run.typed).toEqual([]);
    expect(await codesSent('2026')).toBe(0);
    expect((await control.stats()).total).toBe(2);
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
