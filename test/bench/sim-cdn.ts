/**
 * Bounded benchmark of the simulated CDN (stops by itself; prints figures, asserts nothing):
 *
 * 1. Media generation throughput per format, in process (MB/s of valid media produced).
 * 2. CDN throughput over loopback: a child process runs the simulator's real HTTP listener
 *    (server.ts, with its fault registry, stats and request log) with the CDN mounted; this process
 *    downloads 2 GiB of signed URLs through it with 4 concurrent connections.
 * 3. The server process's RSS idle, after a first (warm-up) 2 GiB, and after a second 2 GiB: it
 *    must not grow with bytes served (bodies are generated per chunk, streamed with backpressure).
 *
 *   node --import tsx test/bench/sim-cdn.ts
 */
import { fork } from 'node:child_process';
import { Agent, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AccountStore } from '#simulator/src/accounts/store.ts';
import { IdmsaState } from '#simulator/src/auth/idmsa-state.ts';
import { DEFAULT_AUTH_SETTINGS } from '#simulator/src/auth/settings.ts';
import { SetupService } from '#simulator/src/auth/setup-router.ts';
import { handleCdn } from '#simulator/src/cdn/router.ts';
import { createUrlMinter } from '#simulator/src/cdn/urls.ts';
import { createClock } from '#simulator/src/clock.ts';
import { RequestLog } from '#simulator/src/control/request-log.ts';
import { FaultRegistry } from '#simulator/src/faults/registry.ts';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import { deriveFamily } from '#simulator/src/identity.ts';
import { openMedia } from '#simulator/src/media/index.ts';
import { createRequestListener } from '#simulator/src/server.ts';
import { RequestStats } from '#simulator/src/stats.ts';
import type { MediaSpec } from '#simulator/src/types.ts';
import { json } from '#simulator/src/types.ts';

const MIB = 1024 * 1024;
const DOWNLOAD_FILE_SIZE = 512 * MIB;
const DOWNLOADS = 4;
const DEADLINE_MS = 180_000;

const spec = (uti: string, size: number, n: number): MediaSpec => ({
  uti,
  size,
  seed: `bench-${uti}-${n}`,
  captureTime: Date.UTC(2024, 5, 1, 12),
  timeZoneOffsetSeconds: 3600,
  width: 4032,
  height: 3024,
});

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

async function generationThroughput(): Promise<void> {
  const cases: [string, number, number][] = [
    ['public.jpeg', 4 * MIB, 64],
    ['public.heic', 3 * MIB, 64],
    ['public.png', 4 * MIB, 32],
    ['com.canon.cr2-raw-image', 25 * MIB, 8],
    ['com.apple.quicktime-movie', 512 * MIB, 1],
    ['public.mpeg-4', 256 * MIB, 1],
  ];
  console.log('media generation (in process, one stream at a time)');
  for (const [uti, size, count] of cases) {
    const started = performance.now();
    let bytes = 0;
    for (let n = 0; n < count; n += 1) bytes += await drain(openMedia(spec(uti, size, n)));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `  ${uti.padEnd(28)} ${(bytes / MIB).toFixed(0).padStart(5)} MiB  ${(bytes / 1e6 / seconds).toFixed(0).padStart(6)} MB/s`,
    );
  }
}

/** Child process: the simulator's HTTP listener with the CDN mounted, on a free loopback port. */
async function serve(): Promise<void> {
  const clock = createClock();
  const family = deriveFamily(1);
  const settings = DEFAULT_AUTH_SETTINGS;
  const auth = {
    clock,
    store: new AccountStore({ family, clock, stateDir: undefined, lifetimes: undefined }),
    idmsa: new IdmsaState(clock, settings),
    settings,
  };
  const minter = createUrlMinter({ secret: Buffer.from('bench'), clock });
  const specs = new Map<string, MediaSpec>();
  const urls: string[] = [];
  for (let n = 0; n < DOWNLOADS; n += 1) {
    const fileChecksum = `A${String(n).padStart(27, '0')}`;
    specs.set(fileChecksum, spec('com.apple.quicktime-movie', DOWNLOAD_FILE_SIZE, n));
    urls.push(
      minter.mint({
        fileChecksum,
        referenceChecksum: 'A'.repeat(28),
        zoneName: 'PrimarySync',
        requestUuid: '00000000-0000-4000-8000-000000000000',
      }),
    );
  }
  const notWired = () => json({ error: 'not part of this benchmark' }, 404);
  const server = createServer(
    { keepAliveTimeout: 65_000 },
    createRequestListener({
      clock,
      stats: new RequestStats(),
      faults: new FaultRegistry(),
      log: new RequestLog(),
      auth,
      setup: new SetupService(auth),
      control: notWired,
      cloudkit: notWired,
      cdn: (req) => handleCdn(req, { minter, resolve: (c) => specs.get(c), clock }),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const rss = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().rss;
  };
  process.on('message', (message: string) => {
    if (message === 'rss') process.send?.({ rss: rss() });
    if (message === 'stop') {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
  process.send?.({ baseUrl: `http://127.0.0.1:${port}`, urls });
}

function download(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`CDN answered ${res.statusCode}`));
      drain(res).then(resolve, reject);
    }).on('error', reject);
  });
}

async function cdnThroughput(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: 'inherit',
  });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  try {
    const { baseUrl, urls } = await next<{ baseUrl: string; urls: string[] }>();
    const agent = new Agent({ keepAlive: true, maxSockets: DOWNLOADS });
    const round = async () => {
      const started = performance.now();
      const sizes = await Promise.all(urls.map((u) => download(toSimulatorUrl(u, baseUrl), agent)));
      return { bytes: sizes.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000 };
    };
    const rss = async () => {
      child.send('rss');
      return (await next<{ rss: number }>()).rss;
    };
    const initial = await rss();
    // A first round reaches the steady state (sockets, stream buffers, JIT); the second is measured.
    await round();
    const before = await rss();
    const { bytes, seconds } = await round();
    const after = await rss();
    agent.destroy();
    console.log(
      `CDN over loopback (${DOWNLOADS} concurrent downloads of ${DOWNLOAD_FILE_SIZE / MIB} MiB MOV)`,
    );
    console.log(
      `  served ${(bytes / MIB).toFixed(0)} MiB in ${seconds.toFixed(1)} s: ${(bytes / 1e6 / seconds).toFixed(0)} MB/s`,
    );
    console.log(
      `  server RSS idle ${(initial / MIB).toFixed(1)} MiB; after a first 2 GiB ${(before / MIB).toFixed(1)} MiB; after another ${(bytes / MIB).toFixed(0)} MiB ${(after / MIB).toFixed(1)} MiB (${((after - before) / MIB).toFixed(1)} MiB change)`,
    );
  } finally {
    child.send('stop');
  }
}

if (process.argv.includes('--serve')) {
  await serve();
} else {
  const deadline = setTimeout(() => {
    console.error(`benchmark exceeded ${DEADLINE_MS / 1000} s; stopping`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  await generationThroughput();
  await cdnThroughput();
}
