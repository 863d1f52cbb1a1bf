/**
 * S118 in docs/protocol/simulator-contract.md#control-plane, over HTTP: the private-database CloudKit
 * requests of the recorded icloudpd listing cassettes, sent to the running simulator exactly as
 * recorded (method, `p61` host, path, query, headers, body), and the answers compared with the
 * recorded ones: status, and every recorded `X-Apple-*` header, its value where it does not name one
 * response instance, else its shape. recorded-cloudkit.test.ts compares bodies in process; this one
 * covers what only the HTTP layer adds (the cookie gate, the partition host, Apple's headers).
 *
 * Two things are not as recorded: the session cookies (most recorded requests lost icloudpd's
 * `Cookie` header, three carry redacted values; the replay sends the simulator session's, as
 * icloudpd's requests session would) and the account's partition, moved to the recorded `p61` so
 * that the recorded host is the right one.
 * Shared-database requests need the recorded participant, not the owner; they stay in process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import type { SimulatorHandle } from '#simulator/src/index.ts';
import { readRecordedJson } from '#test/helpers/recorded.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';

const CASSETTES = [
  'listing_photos',
  'listing_photos_raw_alt_adj',
  'listing_videos',
  'listing_albums',
  'listing_photos_bad_filename',
] as const;

type Interaction = {
  request: {
    method: string;
    uri: string;
    headers: Record<string, string[]>;
    body: { json?: unknown } | null;
  };
  response: { status: number; headers: Record<string, string[]> };
};

/** Transport headers fetch sets itself. */
const TRANSPORT = new Set(['content-length', 'accept-encoding', 'connection', 'host', 'cookie']);
/** Apple's edge, not the CloudKit service: the simulator has no edge. */
const INFRA = new Set(['x-apple-edge-response-time']);
/** Recorded header values that identify one response instance or account; only their shape is compared. */
const INSTANCE_SHAPES: Record<string, RegExp> = {
  'x-apple-request-uuid': /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  'x-apple-user-partition': /^\d+$/,
};

const privateRequests = (name: string): Interaction[] =>
  (readRecordedJson('icloudpd', `${name}.json`) as { interactions: Interaction[] }).interactions.filter((i) =>
    /ckdatabasews\.icloud\.com\/.*\/production\/private\//.test(i.request.uri),
  );

const appleHeaders = (headers: Record<string, string[]>): [string, string][] =>
  Object.entries(headers)
    .map(([n, v]): [string, string] => [n.toLowerCase(), v.join(', ')])
    .filter(([n]) => n.startsWith('x-apple-') && !INFRA.has(n));

let sim: SimulatorHandle;
let control: ControlClient;
let cookie: string;
beforeAll(async () => {
  sim = await startTestSimulator({ seed: 2018, assets: 220 });
  control = controlClient(sim);
  await control.partitionMove({ partition: 61 });
  await control.quirks({ cassetteShapes: true });
  cookie = (await control.session()).cookie;
});
afterAll(() => sim.stop());

describe('S118: recorded private-database CloudKit requests replayed over HTTP', () => {
  it('the cassettes hold private requests, all on the p61 host', () => {
    for (const name of CASSETTES) {
      const requests = privateRequests(name);
      expect(requests.length, name).toBeGreaterThan(3);
      for (const i of requests) expect(new URL(i.request.uri).hostname).toBe('p61-ckdatabasews.icloud.com');
    }
  });

  for (const name of CASSETTES) {
    it(`${name}: every private request answers with the recorded status and X-Apple-* headers`, async () => {
      for (const i of privateRequests(name)) {
        const step = `${name} ${i.request.method} ${new URL(i.request.uri).pathname}`;
        const headers: Record<string, string> = { Cookie: cookie };
        for (const [n, values] of Object.entries(i.request.headers)) {
          if (!TRANSPORT.has(n.toLowerCase())) headers[n] = values.join(', ');
        }
        const res = await fetch(toSimulatorUrl(i.request.uri, sim.baseUrl), {
          method: i.request.method,
          headers,
          body: JSON.stringify(i.request.body?.json ?? {}),
        });
        await res.arrayBuffer();
        expect(res.status, step).toBe(i.response.status);
        for (const [header, recorded] of appleHeaders(i.response.headers)) {
          const ours = res.headers.get(header);
          const shape = INSTANCE_SHAPES[header];
          if (shape) expect([step, header, ours]).toEqual([step, header, expect.stringMatching(shape)]);
          else expect([step, header, ours]).toEqual([step, header, recorded]);
        }
      }
    });
  }
});
