/**
 * `login` when Apple throttles the sign-in and the throttle window cannot be stored (a full disk,
 * a secret that refuses the write, a run's save meanwhile): the person must read Apple's refusal
 * (`rate-limited`), not the save's failure reported as a fault of icloud-s3 (`internal`). The
 * window was saved in a `finally`, whose throw replaced the refusal (finding 54).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { icloudEndpoint } from '#compose/cli.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { runLogin } from '../../functions/cli/commands/login.ts';
import { reportError } from '../../functions/cli/io/error-report.ts';
import { Output } from '../../functions/cli/io/output.ts';

/** A session store whose every write fails, as a full disk's would. */
class FullDiskSessionStore extends InMemorySessionStore {
  override async save(): Promise<{ readonly revision: string }> {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }
}

let sim: Awaited<ReturnType<typeof startTestSimulator>>;

beforeAll(async () => {
  sim = await startTestSimulator({ assets: 1, seed: 3 });
});

afterAll(async () => {
  await sim?.stop();
});

it("reports Apple's throttle, not the failed save of its window", async () => {
  await controlClient(sim).injectFault({ endpoint: 'signin/init', mode: 'srp-503' });
  process.env['ICLOUD_PASSWORD'] = sim.password;
  const output = new Output({ json: true });
  const error = await runLogin(
    {
      output,
      logger: createLogger({ level: 'SILENT' }),
      store: new FullDiskSessionStore(),
      endpoint: () => icloudEndpoint(sim.controlUrl),
    },
    { appleId: sim.appleId },
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  delete process.env['ICLOUD_PASSWORD'];
  const report = reportError(error);
  expect({ code: report.code, message: report.message }).toMatchObject({
    code: 'rate-limited',
    message: expect.stringMatching(/Apple is throttling sign-in/),
  });
});
