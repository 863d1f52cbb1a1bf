/**
 * `npm run sim -- --port 0 --seed N --assets N [--state-dir DIR] [--media-scale X]`
 *
 * Starts the simulator on 127.0.0.1 and prints, as the first line of stdout, one JSON object:
 * `{ controlUrl, authUrl, setupUrl, baseUrl, appleId, password, seed, assets, member }`.
 * Runs until SIGINT/SIGTERM, then exits 0.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startSimulator } from './src/index.ts';

const integer = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
};

const program = new Command('sim')
  .description('Run the iCloud simulator on 127.0.0.1')
  .option('--port <n>', 'port (0 = any free port)', integer(0), 0)
  .option('--seed <n>', 'seed of accounts and library', integer(0), 1)
  .option('--assets <n>', 'number of generated photos and videos', integer(0), 1000)
  .option('--state-dir <dir>', 'persist accounts, sessions and the library change log here')
  .option('--media-scale <x>', 'scale generated media sizes', positive)
  .option('--cassette-mode', 'answer two-factor sign-ins like the icloudpd cassettes (200 instead of 409)')
  .option('--lenient-idmsa-headers', 'the default since 2026: IdMSA calls find their session as Apple does')
  .option('--strict-idmsa-headers', 'require scnt / X-Apple-ID-Session-Id of earlier answers on IdMSA calls')
  .parse();

const opts = program.opts<{
  port: number;
  seed: number;
  assets: number;
  stateDir?: string;
  mediaScale?: number;
  cassetteMode?: boolean;
  lenientIdmsaHeaders?: boolean;
  strictIdmsaHeaders?: boolean;
}>();

const sim = await startSimulator({
  port: opts.port,
  seed: opts.seed,
  assets: opts.assets,
  ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
  ...(opts.mediaScale ? { mediaScale: opts.mediaScale } : {}),
  auth: {
    ...(opts.cassetteMode ? { cassetteMode: true } : {}),
    ...(opts.lenientIdmsaHeaders ? { strictIdmsaHeaders: false } : {}),
    ...(opts.strictIdmsaHeaders ? { strictIdmsaHeaders: true } : {}),
  },
});

process.stdout.write(
  `${JSON.stringify({
    controlUrl: sim.controlUrl,
    authUrl: sim.authUrl,
    setupUrl: sim.setupUrl,
    baseUrl: sim.baseUrl,
    appleId: sim.appleId,
    password: sim.password,
    seed: sim.seed,
    assets: sim.assets,
    member: sim.member,
  })}\n`,
);

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  sim.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`simulator: stop failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
