/**
 * A peer client that is not ours (test/helpers/peer-client.ts: icloudpd's recorded request shapes,
 * its session-token-as-session-id quirk, and the 2026 code flow) signs in, lists and downloads
 * through a simulator left at its DEFAULT settings: the simulator must serve it as Apple does today.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { IcloudpdLikePeer } from '#test/helpers/peer-client.ts';
import type { ControlClient } from '#test/helpers/simulator.ts';
import { controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

let sim: SimulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  sim = await startTestSimulator();
  control = controlClient(sim);
});
afterAll(() => sim.stop());

describe('an icloudpd-like peer against the default simulator (S119, S121, S125, S128, S146)', () => {
  it('signs in with one PUT trigger and the 409 valid answer, lists the library and downloads an original', async () => {
    const peer = new IcloudpdLikePeer(sim.baseUrl, sim.appleId, sim.password);
    let prompts = 0;
    await peer.signIn(async () => {
      prompts += 1;
      return control.code(sim.appleId);
    });
    expect(prompts).toBe(1);

    const assets = await peer.listFirstPage();
    expect(assets.length).toBeGreaterThan(0);
    const first = assets[0]!;
    const bytes = await peer.download(first);
    expect(bytes.length).toBe(first.size);

    const idmsa = peer.calls.filter((c) => c.url.startsWith('idmsa.apple.com'));
    expect(
      idmsa.map((c) => `${c.method} ${c.url.replace('idmsa.apple.com/appleauth/auth', '')} ${c.status}`),
    ).toEqual([
      'POST /signin/init 200',
      'POST /signin/complete 409',
      'PUT /verify/trusteddevice/securitycode 202',
      'POST /verify/trusteddevice/securitycode 409',
      'GET /2sv/trust 204',
    ]);
    const steps = await control.call<{ performed: Record<string, boolean> }>(
      'GET',
      `/accounts/steps?appleId=${encodeURIComponent(sim.appleId)}`,
    );
    expect(steps.performed).toMatchObject({ pushTrigger: true, codeAccepted409: true, trust: true });
  });

  it('signs in again with the trust token it kept, without a code', async () => {
    const peer = new IcloudpdLikePeer(sim.baseUrl, sim.appleId, sim.password);
    await peer.signIn(() => control.code(sim.appleId));
    await control.resetThrottle();
    let prompted = false;
    await peer.signIn(async () => {
      prompted = true;
      return control.code(sim.appleId);
    });
    expect(prompted).toBe(false);
    expect(peer.calls.at(-1)).toMatchObject({ url: 'setup.icloud.com/setup/ws/1/accountLogin', status: 200 });
  });
});
