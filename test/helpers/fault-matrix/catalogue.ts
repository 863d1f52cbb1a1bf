/**
 * The fault matrix's data: every fault mode the simulator has, every pipeline phase and every
 * crash point. Modes are read from the simulator's own catalogue (`REPLY_MODES`, `BODY_MODES`,
 * `CONNECTION_MODES`, the library and CDN quirk schemas), so a mode added there is either in the
 * matrix or named in `NOT_IN_MATRIX` with the reason: `fault-matrix-catalogue.test.ts` fails
 * otherwise.
 */
import { cdnQuirksSchema, DEFAULT_CDN_QUIRKS } from '#simulator/src/cdn/service.ts';
import { BODY_MODES, CONNECTION_MODES, REPLY_MODES } from '#simulator/src/faults/fault-spec.ts';
import { DEFAULT_QUIRKS, quirksSchema } from '#simulator/src/library/quirks.ts';
import type { FaultInput } from '../simulator.ts';

/**
 * Where in the pipeline the fault lands: the issue's seven phases, and the writes detection makes
 * for what it derives (the catalog's journal and shards, the album views) and Shared Albums' items.
 */
export const PHASES = [
  'sign-in refresh',
  'detection page',
  'enqueue',
  'download',
  'upload',
  'manifest write',
  'token save',
  'catalog write',
  'album view write',
  'shared album item',
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Crash points: none, an in-process crash at a durable write (before it reached the store, after
 * it did, or part-way through a streamed body), or a real SIGKILL through the CLI of the `sync`
 * process alone or of its whole process group.
 */
export const CRASH_POINTS = [
  'none',
  'before',
  'after',
  'midStream',
  'sigkill-process',
  'sigkill-group',
] as const;
export type CrashPointKind = (typeof CRASH_POINTS)[number];

/**
 * The durable write each phase ends in (the port call a crash lands on): one port method, or
 * several whose calls are counted together.
 */
export const DURABLE_WRITE: Record<Phase, string | readonly string[]> = {
  'sign-in refresh': 'state.saveZone',
  'detection page': 'state.saveZone',
  enqueue: 'queue.enqueue',
  download: 'objects.putStream',
  upload: 'objects.putStream',
  // A work message's entries are written together (one transaction) once its transfers are done,
  // but a batch of one, an entry a refused batch leaves, a failure or a flag change is written
  // alone (`putEntry`; functions/domain/archive/entry-batch.ts): under faults that spread the
  // items apart every batch may hold one entry, so a crash counts both.
  'manifest write': ['state.putEntry', 'state.putEntries'],
  'token save': 'state.saveZone',
  // `CrashingObjectStore` counts these puts apart from the photos' (`putLabel`).
  'catalog write': 'catalog.put',
  'album view write': 'views.put',
  'shared album item': 'shared.putStream',
};

/** The Apple endpoint (simulator fault key) a phase's fault targets. */
export const PHASE_ENDPOINT: Record<Phase, string> = {
  'sign-in refresh': 'accountLogin',
  'detection page': 'records/query',
  enqueue: 'records/query',
  download: 'cdn',
  upload: 'cdn',
  'manifest write': 'cdn',
  'token save': 'changes/database',
  'catalog write': 'records/query',
  'album view write': 'records/query',
  // The album list of the legacy service (docs/protocol/shared-albums.md).
  'shared album item': 'sharedstreams/webgetalbumslist',
};

export type FaultFamily =
  | 'status'
  | 'reply'
  | 'wire'
  | 'connection'
  | 'delay'
  | 'quirk'
  | 'cdn-quirk'
  | 'clock';

/** What a case does to the simulator while its faults are on. */
export interface FaultAction {
  readonly faults?: readonly FaultInput[];
  readonly quirks?: Record<string, unknown>;
  readonly cdnQuirks?: Record<string, unknown>;
  readonly advanceDays?: number;
}

export interface FaultMode {
  /** `reply:html-200`, `quirk:inlineErrors` ... */
  readonly id: string;
  readonly family: FaultFamily;
  /** Builds the action for one phase; `random` draws its probability and counts. */
  action(phase: Phase, random: () => number): FaultAction;
}

/** A transient fault: a share of the calls, or the next few. Both clear before the recovery runs. */
function shape(random: () => number): Pick<FaultInput, 'count' | 'probability'> {
  return random() < 0.5 ? { count: 1 + Math.floor(random() * 3) } : { probability: 0.2 + random() * 0.5 };
}

function endpointFault(extra: Omit<FaultInput, 'endpoint'>) {
  return (phase: Phase, random: () => number): FaultAction => ({
    faults: [{ endpoint: PHASE_ENDPOINT[phase], ...shape(random), ...extra }],
  });
}

/** HTTP status faults (the `status` field): throttling, a server error, unavailability. */
const STATUS_FAULTS: readonly FaultMode[] = [429, 500, 503].map((status) => ({
  id: `status:${status}`,
  family: 'status' as const,
  action: endpointFault({ status, ...(status === 500 ? {} : { retryAfter: 1 }) }),
}));

const REPLY_FAULTS: readonly FaultMode[] = REPLY_MODES.map((mode) => ({
  id: `reply:${mode}`,
  family: 'reply' as const,
  action: endpointFault({ mode }),
}));

const WIRE_FAULTS: readonly FaultMode[] = BODY_MODES.map((mode) => ({
  id: `wire:${mode}`,
  family: 'wire' as const,
  action: endpointFault(mode === 'slow-body' ? { mode, chunkBytes: 4096, chunkDelayMs: 5 } : { mode }),
}));

const CONNECTION_FAULTS: readonly FaultMode[] = CONNECTION_MODES.map((mode) => ({
  id: `connection:${mode}`,
  family: 'connection' as const,
  action: endpointFault({ mode }),
}));

const DELAY_FAULT: FaultMode = {
  id: 'delay',
  family: 'delay',
  action: endpointFault({ delayMs: 300 }),
};

/**
 * A value for each library quirk that turns it on. A quirk that names records or tokens gets
 * them at run time (`resolve` in the runner), marked here by a placeholder.
 */
export const QUIRK_VALUES: Readonly<Record<string, unknown>> = {
  splitPairs: true,
  shuffle: true,
  emptyPageAtRank: 2,
  inlineErrors: ['$someAsset'],
  countDrift: 3,
  indexingProgress: 40,
  explicitIsDeletedZero: true,
  dateExpungedNull: true,
  expiredTokens: ['$storedTokens'],
  moreComingNull: true,
  cassetteShapes: true,
  strictChangeTags: true,
  otherAppZones: true,
  cmmZones: ['private', 'shared'],
  sharedCollectionZone: true,
  zoneFetchError: true,
  booleanEncoding: [
    { recordType: 'CPLAsset', encoding: 'boolean' },
    { recordType: 'CPLMaster', encoding: 'boolean' },
  ],
  lookupErrors: ['$someMaster'],
  // An original's checksum is its master's record name (S90).
  withheldDownloadUrls: ['$someMaster'],
  hostileDownloadUrl: 'http://127.0.0.1:9/secret.txt',
};

export const CDN_QUIRK_VALUES: Readonly<Record<string, unknown>> = {
  ignoreRange: true,
  invalidSignatureStatus: 403,
  requireCookie: 'always',
  urlLifetimeSeconds: 1,
};

/** Simulator switches the matrix leaves out on purpose, with the reason. */
export const NOT_IN_MATRIX: Readonly<Record<string, string>> = {
  'quirk:migratedPrimaryZone':
    "renames the owner's zone: followed under its new name, with its own test (pipeline-migrated-primary-zone); clearing it renames the zone back, a second rename rather than a recovery",
  'quirk:unrecordedFilenameEncodings':
    'serves names no recording shows Apple sending; hostile names have their own test (pipeline-names)',
};

const QUIRK_FAULTS: readonly FaultMode[] = Object.keys(quirksSchema.shape)
  .filter((key) => `quirk:${key}` in NOT_IN_MATRIX === false)
  .map((key) => ({
    id: `quirk:${key}`,
    family: 'quirk' as const,
    action: () => ({ quirks: { [key]: QUIRK_VALUES[key] } }),
  }));

const CDN_QUIRK_FAULTS: readonly FaultMode[] = Object.keys(cdnQuirksSchema.shape).map((key) => ({
  id: `cdn-quirk:${key}`,
  family: 'cdn-quirk' as const,
  action: () => ({ cdnQuirks: { [key]: CDN_QUIRK_VALUES[key] } }),
}));

/** The simulated clock: a month passes (web sessions expire; the trust does not). */
const CLOCK_FAULT: FaultMode = { id: 'clock:+31d', family: 'clock', action: () => ({ advanceDays: 31 }) };

export const FAULT_MODES: readonly FaultMode[] = [
  ...STATUS_FAULTS,
  ...REPLY_FAULTS,
  ...WIRE_FAULTS,
  ...CONNECTION_FAULTS,
  DELAY_FAULT,
  ...QUIRK_FAULTS,
  ...CDN_QUIRK_FAULTS,
  CLOCK_FAULT,
];

/** The simulator's catalogue as ids, for the test that the matrix forgets none. */
export function simulatorCatalogue(): string[] {
  return [
    ...REPLY_MODES.map((m) => `reply:${m}`),
    ...BODY_MODES.map((m) => `wire:${m}`),
    ...CONNECTION_MODES.map((m) => `connection:${m}`),
    ...Object.keys(DEFAULT_QUIRKS).map((k) => `quirk:${k}`),
    ...Object.keys(DEFAULT_CDN_QUIRKS).map((k) => `cdn-quirk:${k}`),
  ];
}

/**
 * Bugs the matrix found that are not fixed yet (docs/reliability.md). Their cases still run and
 * must keep every other promise (no duplicate, no corruption, no code pushed); what they lose is
 * counted apart, so the figures show it and a fix shows as a case that stops losing.
 */
export const KNOWN_FINDINGS: Readonly<Record<string, string>> = {};
