/**
 * Run records: what each detection run did and what the workers made of its work (`icloud-s3 status`).
 */

export type RunKind = 'detect' | 'download' | 'verify';
export type RunOutcome = 'running' | 'succeeded' | 'partial' | 'failed' | 'reauthRequired' | 'skipped';

/** Identifies a run record; returned by `startRun`, passed to the other run methods. */
export interface RunRef {
  readonly runId: string;
  readonly startedAt: number;
}

/** Numbers a run adds to its record; names are camelCase (`assetsEnqueued`, `bytesArchived`...). */
export interface RunProgress {
  readonly counts?: Readonly<Record<string, number>>;
  /** Requests to Apple by endpoint (`changes/zone`, `records/query`, `cdn`...). */
  readonly appleRequests?: Readonly<Record<string, number>>;
}

export interface RunFailure {
  /** What failed (an asset record name, a zone), never a secret. */
  readonly subject: string;
  readonly reason: string;
}

export interface RunRecord extends RunRef {
  readonly kind: RunKind;
  readonly endedAt?: number;
  readonly outcome: RunOutcome;
  readonly counts: Readonly<Record<string, number>>;
  readonly appleRequests: Readonly<Record<string, number>>;
  /** The first failures of the run (bounded). */
  readonly failures: readonly RunFailure[];
  readonly message?: string;
}

/** How many failures a run record keeps. */
export const MAX_RUN_FAILURES = 50;
