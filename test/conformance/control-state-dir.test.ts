import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { SignInDriver } from '#test/helpers/srp-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'sim-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--state-dir', () => {
  it('keeps sessions, trust tokens, account flags and simulated time across a restart', async () => {
    const first = await startTestSimulator({ stateDir: dir });
    const c1 = controlClient(first);
    const session = await c1.session();
    await c1.setFlags({ termsUpdateNeeded: true });
    await c1.advanceClock({ advanceDays: 3 });
    const before = (await c1.clock()).now;
    await first.stop();

    const second = await startTestSimulator({ stateDir: dir });
    try {
      const c2 = controlClient(second);
      expect((await c2.clock()).now).toBeGreaterThanOrEqual(before);
      const validate = await fetch(`${second.setupUrl}/validate`, {
        method: 'POST',
        headers: { Cookie: session.cookie },
        body: 'null',
      });
      expect(validate.status).toBe(200);
      expect(await validate.json()).toMatchObject({ termsUpdateNeeded: true });
      const signIn = await new SignInDriver(second.authUrl, second.setupUrl).signIn(
        second.appleId,
        second.password,
        [session.trustToken],
      );
      expect(signIn.status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
