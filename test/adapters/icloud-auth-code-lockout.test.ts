/**
 * A lock-out reached while typing codes is reported as the lock-out (account condition `locked`,
 * exit 4 in the CLI), not as one more wrong code to try again: Apple answers the code typed once
 * verification is locked with the same `-21669`, and its two-factor options say which it is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { AccountConditionError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let dir: string;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 1 });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-lockout-'));
});

afterAll(async () => {
  await sim?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('typing wrong codes until Apple locks verification', () => {
  it('says wrong code while Apple still accepts tries, then the lock-out', async () => {
    const control = controlClient(sim);
    const login = await beginLogin({
      endpoint: await resolveEndpoint(sim.controlUrl),
      store: new FileSessionStore(join(dir, 'session.json')),
      appleId: sim.appleId,
      logger: createLogger({ level: 'SILENT' }),
    });
    const authenticator = await login.startSignIn();
    await authenticator.signIn(new Secret(sim.password));
    await authenticator.requestCode({ kind: 'device' });
    const code = await control.code(sim.appleId);
    const wrong = code === '000000' ? '111111' : '000000';
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const error = await authenticator.verifyCode({ kind: 'device' }, wrong).catch((e: unknown) => e);
      if (error instanceof WrongVerificationCodeError) outcomes.push('wrong');
      else if (error instanceof AccountConditionError) outcomes.push(error.condition);
      else throw error;
    }
    // The simulator locks after five wrong codes (simulator/src/auth/settings.ts).
    expect(outcomes).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'locked', 'locked']);
  });
});
