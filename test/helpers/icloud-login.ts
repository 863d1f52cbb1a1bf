/**
 * Signs in to the simulator the way `icloud-s3 login` does (SRP, two-factor by device code,
 * trust) and stores the session: for tests of everything that runs after login.
 */

import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { controlClient } from './simulator.ts';

export interface SignedIn {
  readonly endpoint: IcloudEndpoint;
  readonly store: FileSessionStore;
}

export async function signInToSimulator(
  sim: Pick<SimulatorHandle, 'controlUrl' | 'appleId' | 'password'>,
  sessionFile: string,
  options: { readonly rememberPassword?: boolean } = {},
): Promise<SignedIn> {
  const logger = createLogger({ level: 'SILENT' });
  const endpoint = await resolveEndpoint(sim.controlUrl);
  const store = new FileSessionStore(sessionFile);
  const login = await beginLogin({ endpoint, store, appleId: sim.appleId, logger });
  const authenticator = await login.startSignIn();
  const password = new Secret(sim.password);
  const result = await authenticator.signIn(password);
  if (result.status === 'two-factor') {
    await authenticator.requestCode({ kind: 'device' });
    await authenticator.verifyCode({ kind: 'device' }, await controlClient(sim).code(sim.appleId));
  }
  await login.save(options.rememberPassword ? { rememberPassword: password } : {});
  return { endpoint, store };
}
