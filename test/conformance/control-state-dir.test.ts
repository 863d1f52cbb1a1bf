import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('gives accounts of a state file written before the 2026 sign-in flags the defaults (authFlow "2026")', async () => {
    const oldDir = mkdtempSync(join(tmpdir(), 'sim-state-old-'));
    try {
      const first = await startTestSimulator({ stateDir: oldDir });
      await controlClient(first).setFlags({ termsUpdateNeeded: true });
      await first.stop();
      const file = join(oldDir, 'auth-state.json');
      const state = JSON.parse(readFileSync(file, 'utf8')) as {
        accounts: Record<string, { flags: Record<string, unknown> }>;
      };
      const before2026 = ['hsaVersion', 'hasICloudQualifyingDevice', 'isWebAccessAllowed', 'iCDPEnabled'];
      for (const a of Object.values(state.accounts)) {
        a.flags = Object.fromEntries(
          Object.entries(a.flags).filter(([k]) =>
            [...before2026, 'termsUpdateNeeded', 'domainToUse', 'fido', 'needsRepair'].includes(k),
          ),
        );
      }
      writeFileSync(file, JSON.stringify(state));

      const second = await startTestSimulator({ stateDir: oldDir });
      try {
        const { accounts } = await controlClient(second).call<{
          accounts: { flags: Record<string, unknown> }[];
        }>('GET', '/accounts');
        expect(accounts[0]?.flags).toMatchObject({
          termsUpdateNeeded: true,
          authFlow: '2026',
          escrow: null,
          strictIdmsaHeaders: null,
        });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(oldDir, { recursive: true, force: true });
    }
  });
});
