/**
 * Loopback load on the simulator: requests/second of a cheap endpoint (`setup/validate` with a valid
 * cookie: cookie parsing, token lookup, account document), of CloudKit `records/query` pages and of
 * `changes/zone` (caught up, and a 200-record history page),
 * with a fixed number of requests over a fixed number of keep-alive connections. Not a test; run:
 *
 *   node --import tsx test/bench/sim-load.ts [requests=20000] [concurrency=32]
 */
import { Agent, request } from 'node:http';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import { startSimulator } from '#simulator/src/index.ts';

const total = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);

function post(agent: Agent, url: string, cookie: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { Cookie: cookie, 'Content-Type': 'text/plain' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(label: string, agent: Agent, url: string, cookie: string, body: string, count: number) {
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next += 1;
      if ((await post(agent, url, cookie, body)) !== 200) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${label}: ${count} requests, ${concurrency} connections, ${(count / seconds).toFixed(0)} req/s, ${failures} non-200\n`,
  );
}

const sim = await startSimulator({ port: 0, assets: 10_000 });
try {
  const session = (await (
    await fetch(`${sim.controlUrl}/session`, { method: 'POST', body: '{}' })
  ).json()) as {
    cookie: string;
    ckdatabasewsUrl: string;
  };
  // A long grace keeps the one cookie valid although every CloudKit answer rotates it.
  await fetch(`${sim.controlUrl}/settings`, {
    method: 'POST',
    body: JSON.stringify({ tokenGraceMs: 86_400_000 }),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  await run('validate', agent, `${sim.setupUrl}/validate`, session.cookie, 'null', total);
  const ck = `${toSimulatorUrl(session.ckdatabasewsUrl, sim.baseUrl).replace(/\/$/, '')}/database/1/com.apple.photos.cloud/production/private/records/query`;
  const page = JSON.stringify({
    query: { recordType: 'CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted' },
    zoneID: { zoneName: 'PrimarySync' },
    resultsLimit: 200,
  });
  await run(
    'records/query (200 records)',
    agent,
    ck,
    session.cookie,
    page,
    Math.max(1, Math.floor(total / 20)),
  );
  // changes/zone: the caught-up check an incremental run makes (token = the zone's current one),
  // and a page of the zone's history (200 records) as a first or long delta reads it.
  const changes = ck.replace(/records\/query$/, 'changes/zone');
  const database = (await (
    await fetch(ck.replace(/records\/query$/, 'changes/database'), {
      method: 'POST',
      headers: { Cookie: session.cookie },
      body: '{}',
    })
  ).json()) as { zones: { zoneID: { zoneName: string }; syncToken: string }[] };
  const primary = database.zones.find((z) => z.zoneID.zoneName === 'PrimarySync');
  await run(
    'changes/zone (caught up)',
    agent,
    changes,
    session.cookie,
    JSON.stringify({
      zones: [{ zoneID: { zoneName: 'PrimarySync' }, syncToken: primary?.syncToken, resultsLimit: 200 }],
    }),
    Math.max(1, Math.floor(total / 4)),
  );
  await run(
    'changes/zone (200-record history page)',
    agent,
    changes,
    session.cookie,
    JSON.stringify({ zones: [{ zoneID: { zoneName: 'PrimarySync' }, resultsLimit: 200 }] }),
    Math.max(1, Math.floor(total / 20)),
  );
  agent.destroy();
} finally {
  await sim.stop();
}
