/**
 * `npm run bench [-- --json] [-- --only goals,requests,throughput,memory,simulator]`: the
 * pipeline's figures on this machine, every section bounded (fixed sizes, time limits on every
 * child, scaled by the machine's load, and a hard deadline on the whole run).
 *
 * 0. goals       Issue 12's goals, each beside a baseline measured in the same run (goals.ts):
 *                CLI start, requests per asset, first sync against a reference client, idle run,
 *                work item size, handler CPU per GB, memory in file size, Lambda bundles.
 * 1. requests    Requests to Apple per scenario (first sync of 7,300 assets, idle, 1 add,
 *                5 trash + 2 add, 100 adds) beside a measured full enumeration of the library.
 * 2. throughput  Archive MB/s through the real download path against raw streams of the same bytes.
 * 3. memory      Peak RSS of the download worker archiving a 512 MiB and a 2 GiB video, then one
 *                invocation archiving a batch of large videos at once (--batch-video-mib, 256;
 *                as many as the batch's item slots, over the records of one SQS batch).
 * 4. simulator   Simulator start-up and RSS by library size, CDN MB/s, requests per second.
 * 5. profile     The raw upload and the handler into s3rver and into a null S3, under --cpu-prof:
 *                rate, CPU per GB, top self time (cpu-profile.ts).
 * 6. catalog     Bytes of the catalog in the bucket rewritten per small change, for a generated
 *                library of --catalog-assets (100,000) assets (catalog-rewrite.ts; no servers).
 *
 * Readable tables go to stdout (`--json`: one JSON object instead); progress goes to stderr.
 * Options: --goals-assets N (300), --goals-photo-mb X (1.6), --goals-tiny-kb X (16),
 * --goals-concurrency N (4), --assets N (7300), --media-scale X (0.001), --throughput-files N (8),
 * --throughput-mib N per file (64), --videos-mib list (512,2048), --batch-video-mib N (256). Part size and queue size are
 * the Lambda's (UPLOAD_PART_SIZE_MIB, UPLOAD_QUEUE_SIZE, defaults from the config schema).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_BATCH_ITEMS } from '#app/download-batch.ts';
import { loadConfig } from '#shared/config.ts';
import { ENV } from '#shared/env-names.ts';
import { quietNodeVersionWarning } from '#shared/quiet-node-warning.ts';
import { DOWNLOAD_BATCH_SIZE } from '../../infra/download-workers.ts';
import { measureArchiveThroughput } from './archive-throughput.ts';
import { measureCatalogRewrite } from './catalog-rewrite.ts';
import { measureCpuProfiles } from './cpu-profile.ts';
import { measureDownloadMemory } from './download-memory.ts';
import { measureGoals } from './goals.ts';
import { measurePipelineRequests } from './pipeline-requests.ts';
import { type BenchFigures, renderFigures } from './report.ts';
import { measureSimulator } from './simulator-figures.ts';
import { loadFactor } from './support/child-job.ts';
import { describeMachine } from './support/machine.ts';
import { MIB, seconds } from './support/units.ts';

const SECTIONS = ['goals', 'requests', 'throughput', 'memory', 'simulator', 'profile', 'catalog'] as const;
type Section = (typeof SECTIONS)[number];
// Written for an idle machine; scaled like every child's limit.
const HARD_DEADLINE_MS = 20 * 60 * 1000 * loadFactor();

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    'goals-assets': { type: 'string', default: '300' },
    'goals-photo-mb': { type: 'string', default: '1.6' },
    'goals-tiny-kb': { type: 'string', default: '16' },
    'goals-concurrency': { type: 'string', default: '4' },
    assets: { type: 'string', default: '7300' },
    'media-scale': { type: 'string', default: '0.001' },
    'throughput-files': { type: 'string', default: '8' },
    'throughput-mib': { type: 'string', default: '64' },
    'videos-mib': { type: 'string', default: '512,2048' },
    'batch-video-mib': { type: 'string', default: '256' },
    'catalog-assets': { type: 'string', default: '100000' },
  },
  strict: true,
});

const positive = (name: string, raw: string | undefined): number => {
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
};

const only = (values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS]) as Section[];
for (const section of only)
  if (!SECTIONS.includes(section))
    throw new Error(`--only: unknown section ${section} (${SECTIONS.join(', ')})`);

// The Lambda's upload settings: the config schema's defaults unless the environment sets them.
const config = loadConfig({
  [ENV.archiveBucket]: 'bench',
  [ENV.stateTable]: 'bench',
  [ENV.workQueueUrl]: 'http://127.0.0.1/queue',
  [ENV.sessionSecretId]: 'bench',
  [ENV.uploadPartSizeMiB]: process.env[ENV.uploadPartSizeMiB],
  [ENV.uploadQueueSize]: process.env[ENV.uploadQueueSize],
});
const upload = { partSize: config.uploadPartSizeMiB * MIB, queueSize: config.uploadQueueSize };

quietNodeVersionWarning();
const deadline = setTimeout(() => {
  process.stderr.write(`bench: stopped after ${Math.round(HARD_DEADLINE_MS / 60_000)} minutes\n`);
  process.exit(2);
}, HARD_DEADLINE_MS);
deadline.unref();

const started = performance.now();
const log = (line: string) => process.stderr.write(`[${seconds(performance.now() - started)} s] ${line}\n`);
const machine = describeMachine();
const run = (section: Section) => only.includes(section);

const goals = run('goals')
  ? await measureGoals({
      assets: positive('goals-assets', values['goals-assets']),
      photoBytes: Math.round(positive('goals-photo-mb', values['goals-photo-mb']) * 1e6),
      tinyBytes: Math.round(positive('goals-tiny-kb', values['goals-tiny-kb']) * 1e3),
      concurrency: positive('goals-concurrency', values['goals-concurrency']),
      upload,
      log,
    })
  : undefined;
const requests = run('requests')
  ? await measurePipelineRequests({
      assets: positive('assets', values.assets),
      mediaScale: positive('media-scale', values['media-scale']),
      seed: 7,
      log,
    })
  : undefined;
const throughput = run('throughput')
  ? await measureArchiveThroughput({
      files: positive('throughput-files', values['throughput-files']),
      fileBytes: positive('throughput-mib', values['throughput-mib']) * MIB,
      streams: [1, 4],
      upload,
      seed: 8,
      log,
    })
  : undefined;
const memory = run('memory')
  ? await measureDownloadMemory({
      sizes: (values['videos-mib'] ?? '').split(',').map((s) => positive('videos-mib', s) * MIB),
      upload,
      batch: {
        videos: DEFAULT_BATCH_ITEMS,
        size: positive('batch-video-mib', values['batch-video-mib']) * MIB,
        messages: DOWNLOAD_BATCH_SIZE,
      },
      seed: 9,
      log,
    })
  : undefined;
const simulator = run('simulator')
  ? await measureSimulator({ sizes: [1_000, 100_000, 1_000_000], log })
  : undefined;

const profile = run('profile')
  ? await measureCpuProfiles({ files: 4, fileBytes: 64 * MIB, upload, log })
  : undefined;

const catalog = run('catalog')
  ? await measureCatalogRewrite({ assets: positive('catalog-assets', values['catalog-assets']), log })
  : undefined;

const figures: BenchFigures = {
  machine,
  upload: { partSizeMiB: config.uploadPartSizeMiB, queueSize: config.uploadQueueSize },
  ...(goals ? { goals } : {}),
  ...(requests ? { requests } : {}),
  ...(throughput ? { throughput } : {}),
  ...(memory ? { memory } : {}),
  ...(simulator ? { simulator } : {}),
  ...(profile ? { profile } : {}),
  ...(catalog ? { catalog } : {}),
  seconds: seconds(performance.now() - started),
};
process.stdout.write(values.json ? `${JSON.stringify(figures)}\n` : `${renderFigures(figures)}\n`);
