/**
 * S20 in docs/protocol/simulator-contract.md#sign-in: `POST /appleauth/auth/federate?isRememberMeEnabled=true`
 * `{"accountName", "rememberMe": true}` is the pre-SRP step rclone (PR #9209) and other web-flow
 * clients send after the widget page and before `signin/init`, and they stop unless it answers 200
 * (spec addendum icloud-2026-changes.md §11; docs/protocol/sign-in.md#widget-page). It only says
 * whether the account signs in at a federated identity provider: it pushes nothing and is no
 * sign-in attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { SignInDriver, TestSrpClient } from '#test/helpers/srp-client.ts';

const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';

let sim: SimulatorHandle;
let control: ControlClient;
beforeAll(async () => {
  sim = await startTestSimulator({ assets: 2 });
  control = controlClient(sim);
});
afterAll(() => sim.stop());

function federate(accountName: string): Promise<Response> {
  return fetch(
    toSimulatorUrl('https://idmsa.apple.com/appleauth/auth/federate?isRememberMeEnabled=true', sim.baseUrl),
    {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/javascript, */*; q=0.01',
        Origin: 'https://idmsa.apple.com',
        'X-Apple-Widget-Key': WIDGET_KEY,
        'X-Apple-OAuth-Client-Id': WIDGET_KEY,
        'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
        'X-Apple-OAuth-Response-Type': 'code',
        'X-Apple-OAuth-Response-Mode': 'web_message',
      },
      body: JSON.stringify({ accountName, rememberMe: true }),
    },
  );
}

describe('S20: the pre-SRP federate step', () => {
  it('answers 200 to an rclone-shaped federate call for a known account: not federated', async () => {
    const res = await federate(sim.appleId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('scnt')).toBeTruthy();
    expect(await res.json()).toEqual({ showFederatedIdpConfirmation: false, federated: false });
  });

  it('pushes no code and counts no sign-in attempt: signin/init after it is not throttled', async () => {
    await control.settings({ srpLimit: 1 });
    for (let i = 0; i < 3; i++) expect((await federate(sim.appleId)).status).toBe(200);
    await expect(control.code()).rejects.toThrow();
    const { res } = await new SignInDriver(sim.authUrl, sim.setupUrl).init(
      new TestSrpClient(sim.appleId, sim.password),
    );
    expect(res.status).toBe(200);
  });
});
