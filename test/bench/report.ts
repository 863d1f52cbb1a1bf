/**
 * The readable form of the benchmark's figures: one table per section, built from the same
 * object `--json` prints.
 */
import type { ThroughputRow, TransferMode } from './archive-throughput.ts';
import type { CatalogFigures } from './catalog-rewrite.ts';
import type { ProfiledRun } from './cpu-profile.ts';
import type { BatchMemoryRun, MemoryFigures } from './download-memory.ts';
import type { GoalFigures } from './goals.ts';
import type { RequestFigures } from './pipeline-requests.ts';
import type { SimulatorFigures } from './simulator-figures.ts';
import type { MachineInfo } from './support/machine.ts';
import { renderTable, type Table } from './support/table.ts';

export interface BenchFigures {
  readonly machine: MachineInfo;
  readonly upload: { readonly partSizeMiB: number; readonly queueSize: number };
  readonly goals?: GoalFigures;
  readonly requests?: RequestFigures;
  readonly throughput?: readonly ThroughputRow[];
  readonly memory?: MemoryFigures;
  readonly simulator?: SimulatorFigures;
  readonly profile?: readonly ProfiledRun[];
  readonly catalog?: CatalogFigures;
  readonly seconds: number;
}

function goalsTable(goals: GoalFigures): Table {
  return {
    title: `0. Issue 12 goals, each beside a baseline measured in this run (load ${goals.loadAverage}, child limits x${goals.loadFactor})`,
    header: ['Goal', 'Target', 'Figure', 'Baseline (same run)', 'Ratio', 'Met'],
    rows: goals.rows.map((r) => [
      r.goal,
      r.target,
      r.figure,
      r.baseline,
      r.ratio === undefined ? undefined : `${r.ratio}x`,
      r.met === undefined ? '?' : r.met ? 'yes' : 'no',
    ]),
    notes: [
      'Ratio: figure / baseline, except first-sync rows: reference time / ours (a speed ratio, higher is better).',
      'Reference = test/bench/support/reference-client.ts (records/query pages + N-way GET -> PutObject into s3rver), its sign-in excluded.',
      `Details: ${JSON.stringify(goals.details['firstSync'] ?? {})}`,
      `CPU and memory: ${JSON.stringify(goals.details['cpuAndMemory'] ?? {})}`,
    ],
  };
}

const SHORT_ENDPOINTS: Readonly<Record<string, string>> = {
  'internal/records/query/batch': 'query/batch',
};

const endpoints = (counts: Readonly<Record<string, number>>): string =>
  Object.entries(counts)
    .filter(([endpoint]) => endpoint !== 'cdn')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([endpoint, n]) => `${SHORT_ENDPOINTS[endpoint] ?? endpoint} ${n}`)
    .join(', ') || 'none';

/** What the brief's formula predicts for a walk of `photos`: two records a photo, 200 a page, one count. */
const enumerationFormula = (photos: number): number => Math.ceil((2 * photos) / 200) + 1;

function requestsTable(figures: RequestFigures): Table {
  return {
    title: `1. Requests to Apple per scenario (library of ${figures.libraryAssets} assets, mediaScale ${figures.mediaScale})`,
    header: [
      'Scenario',
      'Outcome',
      'Requests',
      'By endpoint',
      'CDN',
      'Full enumeration',
      '(count + pages)',
      'Formula',
      'Enumeration / ours',
      'Sync s',
    ],
    rows: figures.scenarios.map((s) => {
      const count = s.baseline.byEndpoint['internal/records/query/batch'] ?? 0;
      const pages = s.baseline.byEndpoint['records/query'] ?? 0;
      return [
        s.scenario,
        s.outcome,
        s.metadataRequests,
        endpoints(s.simulator.byEndpoint),
        s.cdnDownloads,
        s.baseline.total,
        `(${count} + ${pages})`,
        enumerationFormula(s.baseline.assets),
        `${Math.round((s.baseline.total / Math.max(1, s.metadataRequests)) * 10) / 10}x`,
        s.seconds,
      ];
    }),
    notes: [
      "Requests = what the run asked CloudKit (the simulator's /__sim/stats without CDN downloads; CDN = files downloaded).",
      "The run summary's appleRequests (client side) against /__sim/stats (server side), CDN included:",
      ...figures.scenarios.map(
        (s) =>
          `  ${s.scenario}: summary ${s.summary.total}, simulator ${s.simulator.total}${s.summary.total === s.simulator.total ? '' : ' (DIFFERENT)'}; archived ${s.assetsArchived} assets (${s.versionsArchived} versions, ${s.bytesArchivedMiB} MiB), updated ${s.assetsUpdated}`,
      ),
      'Full enumeration = a records/query walk of the PrimarySync library through CloudKitAssetSource.enumeratePage, run',
      'after each scenario: what a tool without sync tokens pays to learn the same thing (its last page is the empty one',
      `that proves the end). Formula = ceil(2 x photos / 200) + 1 count; photos walked: ${figures.scenarios
        .map((s) => s.baseline.assets)
        .join(', ')}.`,
      'The first sync walks more than the library: hidden, recently deleted and the Shared Library too.',
    ],
  };
}

const MODE_LABELS: Readonly<Record<TransferMode, string>> = {
  'raw-get': 'raw http.get -> /dev/null',
  'raw-fetch': 'raw fetch -> /dev/null',
  'raw-s3': 'raw http.get -> lib-storage -> S3',
  'raw-s3-copy': 'raw http.get -> lib-storage -> S3 + metadata copy',
  pipeline: 'download handler -> integrity -> S3ObjectStore -> S3',
};

function throughputTable(rows: readonly ThroughputRow[]): Table {
  return {
    title: '2. Archive throughput against raw streams of the same bytes (loopback, local S3 = s3rver)',
    header: ['Streams', 'Path', 'MiB', 's', 'MB/s', 'Peak RSS MiB', 'CPU s/GB'],
    rows: rows.flatMap((row) =>
      row.transfers.map((t) => [
        t.streams,
        `${MODE_LABELS[t.mode]}${t.timedOut ? ' (TIMED OUT, partial)' : ''}`,
        t.mib,
        t.seconds,
        t.mbPerSecond,
        t.peakRssMiB,
        t.cpuSecondsPerGb,
      ]),
    ),
    notes: rows.map(
      (row) =>
        `${row.streams} stream(s), ${row.files} x ${row.fileMiB} MiB videos: pipeline / raw GET = ${row.ratioToRawGet}, pipeline / raw GET->S3 = ${row.ratioToRawS3}, / raw GET->S3 + copy = ${row.ratioToRawS3Copy}; archived bytes ${row.intact ? 'match' : 'DO NOT match'} the simulator's SHA-256`,
    ),
  };
}

function memoryTable(memory: MemoryFigures): Table {
  return {
    title: `3. Download worker RSS while archiving one video (own process; part ${memory.partSizeMiB} MiB x queue ${memory.queueSize})`,
    header: [
      'Video MiB',
      'RSS before',
      'Peak (20 ms samples)',
      'maxRSS',
      'Peak - before',
      's',
      'MB/s',
      'SHA-256',
    ],
    rows: memory.runs.map((r) => [
      r.sizeMiB,
      r.rssBeforeMiB,
      r.peakRssMiB,
      r.maxRssMiB,
      r.growthMiB,
      r.seconds,
      r.mbPerSecond,
      r.timedOut ? 'TIMED OUT (partial)' : r.intact ? 'matches' : 'MISMATCH',
    ]),
    notes: [
      'RSS in MiB. "RSS before" = modules loaded and clients built, before the first byte.',
      ...(memory.batch === undefined ? [] : [batchNote(memory.batch)]),
    ],
  };
}

function batchNote(b: BatchMemoryRun): string {
  return (
    `One invocation, ${b.videos} x ${b.sizeMiB} MiB videos at once over ${b.messages} records: ` +
    `RSS before ${b.rssBeforeMiB}, peak ${b.peakRssMiB} (maxRSS ${b.maxRssMiB}), ` +
    `growth ${b.growthMiB} = ${b.growthPerUploadMiB} per upload in flight, ${b.seconds} s, ` +
    `SHA-256 ${b.intact ? 'matches' : 'MISMATCH'}.`
  );
}

function simulatorTables(sim: SimulatorFigures): Table[] {
  const tables: Table[] = [
    {
      title: '4. Simulator: start-up by library size (fresh process each)',
      header: ['Assets', 'Start ms', 'First records/query ms', 'RSS idle MiB', 'RSS ready MiB', 'maxRSS MiB'],
      rows: sim.startup.map((s) => [
        s.assets,
        s.startMs,
        s.firstQueryMs,
        s.rssIdleMiB,
        s.rssReadyMiB,
        s.maxRssMiB,
      ]),
    },
  ];
  const notes: string[] = [];
  if (sim.cdn !== undefined) {
    notes.push(
      `CDN (sim-cdn.ts, 4 concurrent downloads): ${sim.cdn.servedMiB} MiB in ${sim.cdn.seconds} s = ${sim.cdn.mbPerSecond} MB/s;`,
      `server RSS idle ${sim.cdn.serverRssIdleMiB} MiB, after 2 GiB served ${sim.cdn.serverRssAfterFirstMiB} MiB, after 4 GiB ${sim.cdn.serverRssAfterMiB} MiB`,
    );
  } else {
    notes.push('CDN: sim-cdn.ts printed nothing this benchmark recognises.');
  }
  tables.push({
    title: '   Simulator load (sim-load.ts)',
    header: ['Endpoint', 'Requests', 'Connections', 'req/s'],
    rows: sim.load.map((l) => [l.endpoint, l.requests, l.connections, l.perSecond]),
    notes,
  });
  return tables;
}

function profileTable(runs: readonly ProfiledRun[]): Table {
  return {
    title:
      '5. CPU profile (node --cpu-prof) of the worker: raw upload and handler, into s3rver and into a null S3',
    header: ['Path', 'S3', 'MiB', 'MB/s', 'CPU s/GB', 'Self time by owner (top 4)'],
    rows: runs.map((r) => [
      r.path,
      r.sink,
      r.mib,
      r.mbPerSecond,
      r.cpuSecondsPerGb,
      r.error ??
        r.byOwner
          .slice(0, 4)
          .map((o) => `${o.owner} ${o.percent}%`)
          .join(', '),
    ]),
    notes: runs.flatMap((r) => [
      `${r.path} -> ${r.sink}, top self time: ${r.top.map((t) => `${t.fn} ${t.percent}%`).join('; ')}`,
    ]),
  };
}

function catalogTable(catalog: CatalogFigures): Table {
  return {
    title: `6. Catalog bytes rewritten per small change, ${catalog.assets.toLocaleString('en')} assets (${catalog.shards} shards, ${catalog.catalogBytes.toLocaleString('en')} bytes in all)`,
    header: [
      'Change',
      'Assets',
      'Shards rewritten',
      'Bytes rewritten',
      'Bytes per asset',
      '% of catalog',
      'Fold ms',
    ],
    rows: catalog.rows.map((r) => [
      r.change,
      r.assetsChanged,
      r.shardsRewritten,
      r.bytesRewritten,
      r.bytesPerAsset,
      r.percentOfCatalog,
      r.foldMs,
    ]),
    notes: [
      `Generated manifest over the in-memory stores (no servers); the first fold of the whole library took ${catalog.firstFoldMs} ms.`,
    ],
  };
}

/** Every section that ran, as text tables. */
export function renderFigures(figures: BenchFigures): string {
  const m = figures.machine;
  const tables: Table[] = [
    ...(figures.goals ? [goalsTable(figures.goals)] : []),
    ...(figures.requests ? [requestsTable(figures.requests)] : []),
    ...(figures.throughput ? [throughputTable(figures.throughput)] : []),
    ...(figures.memory ? [memoryTable(figures.memory)] : []),
    ...(figures.simulator ? simulatorTables(figures.simulator) : []),
    ...(figures.profile ? [profileTable(figures.profile)] : []),
    ...(figures.catalog ? [catalogTable(figures.catalog)] : []),
  ];
  return [
    `icloud-s3 benchmark, ${m.date}: ${m.cpus} x ${m.cpuModel}, ${m.memoryMiB} MiB, Node ${m.node}, ${m.platform}, load ${m.loadAverage} at start`,
    '',
    ...tables.map(renderTable),
    `Finished in ${figures.seconds} s.`,
  ].join('\n');
}
