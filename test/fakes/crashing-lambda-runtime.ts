/**
 * The serverless pipeline with Lambda processes that die: the real detect and download handlers
 * run as successive invocations over durable stores (state, objects, queue: DynamoDB, S3, SQS),
 * behind ports that crash on a `CrashSchedule`. It plays the parts of AWS the code relies on:
 *
 * - EventBridge: invokes the detector again until it reports `idle` or `caughtUp`. A crashed
 *   detector never released its lock, so the next tick comes after the lease ran out.
 * - SQS with `ReportBatchItemFailures`: a batch goes to one download invocation; succeeded
 *   records are deleted, failed ones come back; a crashed invocation's whole batch comes back.
 *   Delivery is at-least-once: with `redeliveryRate`, a deleted message is delivered once more.
 * - Cold starts: a crashed process takes its iCloud adapters (and their in-memory pairing state)
 *   with it; the next invocation opens new ones.
 *
 * The handlers are wired as the Lambda roots wire them (`detectorRunDeps`, `downloaderBatchDeps`):
 * albums and their views, the catalog's journal and fold, Shared Albums, all over the crashing
 * ports, so a crash can land on any of their writes too.
 */

import { createHash } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import type { DetectionRunResult } from '#app/detection-run.ts';
import { detectorRunDeps } from '#compose/detector-deps.ts';
import { downloaderBatchDeps } from '#compose/downloader-deps.ts';
import type { IcloudAdapters } from '#compose/icloud-adapters.ts';
import { isDerivedKey } from '#domain/catalog/derived-keys.ts';
import type { ManifestEntry } from '#domain/model/manifest.ts';
import type { WorkMessage } from '#domain/model/work.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import { isSharedAlbumKey } from '#domain/shared-albums/verify-shared-albums.ts';
import { createDetectHandler } from '#entry/lambda/detect-handler.ts';
import { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import { createLogger, type Logger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { CrashingAlbumStore, CrashingSharedAlbumStateStore } from './crashing-album-store.ts';
import { CrashingAssetSource } from './crashing-asset-source.ts';
import { type CrashSchedule, seededRandom } from './crashing-invocation.ts';
import { CrashingMediaDownloader } from './crashing-media-downloader.ts';
import { CrashingObjectStore } from './crashing-object-store.ts';
import { CrashingSyncStateStore } from './crashing-sync-state-store.ts';
import { CrashingWorkQueue } from './crashing-work-queue.ts';
import type { InMemoryObjectStore } from './in-memory-object-store.ts';
import { InMemorySharedAlbumStateStore } from './in-memory-shared-album-state-store.ts';
import type { InMemorySyncStateStore } from './in-memory-sync-state-store.ts';
import type { InMemoryWorkQueue } from './in-memory-work-queue.ts';

/** A clock the runtime moves by hand (leases, URL ages); real time does not leak in. */
export class ManualClock {
  #now: number;
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

export interface CrashingRuntimeOptions {
  readonly schedule: CrashSchedule;
  readonly clock: ManualClock;
  /** The durable stores: they survive every crash. */
  readonly state: InMemorySyncStateStore;
  readonly objects: InMemoryObjectStore;
  readonly queue: InMemoryWorkQueue;
  /** Shared Albums' state (durable too); a new empty one when absent. */
  readonly sharedAlbumState?: InMemorySharedAlbumStateStore;
  /** Shared Albums as the detector's settings say: off when absent (no request). */
  readonly sharedAlbums?: { readonly enabled: boolean; readonly cadenceMs: number };
  /** XMP sidecars beside each original (off, the deployed default). */
  readonly xmpSidecars?: boolean;
  /** Opens iCloud adapters for a fresh process (a cold start). */
  readonly openIcloud: () => Promise<IcloudAdapters>;
  readonly deletePolicy: DeletePolicy;
  readonly versionPolicy: VersionPolicy;
  /** Work messages per download invocation (the event source's batch size). */
  readonly batchSize?: number;
  /** Items in flight per download invocation (the handler's default when absent). */
  readonly batchItems?: number;
  /** Share of deleted messages SQS delivers once more anyway (at-least-once). */
  readonly redeliveryRate?: number;
  readonly seed?: number;
  readonly logger?: Logger;
  /** Invocations of either kind before the runtime gives up (a loop that never converges). */
  readonly maxInvocations?: number;
}

export interface ArchiveAudit {
  /** SHA-256 of every object's bytes (computed, not read from metadata). */
  readonly digests: ReadonlySet<string>;
  readonly problems: readonly string[];
  readonly entries: readonly ManifestEntry[];
}

export interface RuntimeReport {
  readonly detectInvocations: number;
  readonly downloadInvocations: number;
  readonly crashes: readonly string[];
  /** Errors that were not crashes: each one is a finding. */
  readonly unexpectedErrors: readonly string[];
  /** Records a live download invocation failed (SQS redelivered them). */
  readonly failedRecords: number;
  readonly lastDetect?: DetectionRunResult;
}

/** A lease the crashed detector left behind is gone by the next tick after this long. */
const AFTER_LEASE_MS = 17 * 60 * 1000;
const LAMBDA_TIMEOUT_MS = 15 * 60 * 1000;

export class CrashingLambdaRuntime {
  readonly #options: CrashingRuntimeOptions;
  readonly #random: () => number;
  readonly metrics = new CollectedMetrics();
  /** The crashing ports, as the handlers see them. */
  readonly ports: {
    readonly state: CrashingSyncStateStore;
    readonly objects: CrashingObjectStore;
    readonly queue: CrashingWorkQueue;
    readonly albums: CrashingAlbumStore;
    readonly sharedAlbumState: CrashingSharedAlbumStateStore;
  };
  /** The durable Shared Albums state behind its crashing port. */
  readonly sharedAlbumState: InMemorySharedAlbumStateStore;
  #adapters: IcloudAdapters | undefined;
  #downloaders: CrashingMediaDownloader[] = [];
  #deliveries = 0;
  /** How often each work message was handed out, as SQS's ApproximateReceiveCount says. */
  readonly #receives = new Map<string, number>();
  #report = {
    detectInvocations: 0,
    downloadInvocations: 0,
    unexpectedErrors: [] as string[],
    failedRecords: 0,
    lastDetect: undefined as DetectionRunResult | undefined,
  };

  constructor(options: CrashingRuntimeOptions) {
    this.#options = options;
    this.#random = seededRandom((options.seed ?? 1) * 7919 + 17);
    this.sharedAlbumState = options.sharedAlbumState ?? new InMemorySharedAlbumStateStore();
    this.ports = {
      state: new CrashingSyncStateStore(options.state, options.schedule),
      objects: new CrashingObjectStore(options.objects, options.schedule),
      queue: new CrashingWorkQueue(options.queue, options.schedule),
      // The in-memory state store keeps the albums too, as the one DynamoDB table does.
      albums: new CrashingAlbumStore(options.state, options.schedule),
      sharedAlbumState: new CrashingSharedAlbumStateStore(this.sharedAlbumState, options.schedule),
    };
  }

  get downloadsOpened(): number {
    return this.#downloaders.reduce((n, d) => n + d.opened, 0);
  }

  /** The adapters of the current process: opened on a cold start, dropped when it crashes. */
  async #icloud(): Promise<IcloudAdapters> {
    if (this.#adapters === undefined) {
      const base = await this.#options.openIcloud();
      const downloader = new CrashingMediaDownloader(base.downloader, this.#options.schedule);
      this.#downloaders.push(downloader);
      this.#adapters = {
        ...base,
        source: new CrashingAssetSource(base.source, this.#options.schedule),
        downloader,
      };
    }
    return this.#adapters;
  }

  #context(name: string): Context {
    return createLambdaContext(name, LAMBDA_TIMEOUT_MS, this.#options.clock.now);
  }

  readonly #logger = (): Logger => this.#options.logger ?? createLogger({ level: 'SILENT' });

  /**
   * One scheduled detection. Returns its result, or undefined when the process died. A crash
   * moves the clock past the lease the dead run still holds, as the next schedule tick would
   * come after it (`afterCrashMs`: 0 plays a tick that comes while the lease is still held).
   */
  async detectOnce(
    options: { readonly afterCrashMs?: number } = {},
  ): Promise<DetectionRunResult | undefined> {
    const { schedule, clock } = this.#options;
    const invocation = schedule.begin();
    this.#report.detectInvocations += 1;
    const handler = createDetectHandler(
      detectorRunDeps(
        { ...this.ports, icloud: () => this.#icloud() },
        {
          deletePolicy: this.#options.deletePolicy,
          versionPolicy: this.#options.versionPolicy,
          reserveMs: 20_000,
          sharedAlbums: this.#options.sharedAlbums ?? { enabled: false, cadenceMs: 0 },
          xmpSidecars: this.#options.xmpSidecars ?? false,
          logger: this.#logger(),
          metrics: this.metrics,
          now: clock.now,
        },
      ),
    );
    try {
      const result = await handler({}, this.#context('detect-changes'));
      if (!invocation.dead) {
        this.#report.lastDetect = result;
        return result;
      }
    } catch (error) {
      if (!invocation.dead) this.#report.unexpectedErrors.push(`detect: ${describe(error)}`);
    }
    if (invocation.dead) {
      this.#adapters = undefined;
      clock.advance(options.afterCrashMs ?? AFTER_LEASE_MS);
    }
    return undefined;
  }

  /** One download invocation over the next batch. Returns false when the queue was empty. */
  async downloadOnce(): Promise<boolean> {
    const { schedule, queue, clock } = this.#options;
    const taken = queue.receive(this.#options.batchSize ?? 3);
    if (taken.length === 0) return false;
    const invocation = schedule.begin();
    this.#report.downloadInvocations += 1;
    const handler = createDownloadHandler(
      downloaderBatchDeps(
        { ...this.ports, icloud: () => this.#icloud() },
        {
          deletePolicy: this.#options.deletePolicy,
          versionPolicy: this.#options.versionPolicy,
          reserveMs: 30_000,
          logger: this.#logger(),
          metrics: this.metrics,
          now: clock.now,
          ...(this.#options.batchItems === undefined ? {} : { batchItems: this.#options.batchItems }),
        },
      ),
    );
    const event: SQSEvent = {
      Records: taken.map((work) => {
        this.#deliveries += 1;
        const receives = (this.#receives.get(work.workId) ?? 0) + 1;
        this.#receives.set(work.workId, receives);
        return {
          messageId: `${work.workId}/${this.#deliveries}`,
          receiptHandle: `receipt-${this.#deliveries}`,
          body: work.body,
          attributes: {
            ApproximateReceiveCount: String(receives),
            SentTimestamp: String(clock.now()),
            SenderId: 'crashing-runtime',
            ApproximateFirstReceiveTimestamp: String(clock.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:work',
          awsRegion: 'us-east-1',
        };
      }),
    };
    let failed = new Set<string>();
    try {
      const response = await handler(event, this.#context('download-assets'));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      if (!invocation.dead) this.#report.unexpectedErrors.push(`download: ${describe(error)}`);
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    const back: WorkMessage[] = [];
    event.Records.forEach((record, i) => {
      const work = taken[i];
      if (work === undefined) return;
      if (invocation.dead || failed.has(record.messageId)) back.push(work.message);
      else if (this.#random() < (this.#options.redeliveryRate ?? 0)) back.push(work.message);
    });
    if (!invocation.dead) this.#report.failedRecords += failed.size;
    else {
      this.#adapters = undefined;
      // SQS shows a dead invocation's messages again only after their visibility timeout (at
      // least the Lambda's), by which time every lease the dead process held has run out.
      clock.advance(AFTER_LEASE_MS);
    }
    if (back.length > 0) await queue.enqueue(back);
    return true;
  }

  /** Drains the queue, then detects again, until detection is caught up and nothing is left. */
  async runToCompletion(): Promise<RuntimeReport> {
    const limit = this.#options.maxInvocations ?? 500;
    for (;;) {
      const result = await this.detectOnce();
      while (await this.downloadOnce()) this.#guard(limit);
      this.#guard(limit);
      if (
        result !== undefined &&
        (result.outcome === 'idle' || result.outcome === 'reauthRequired') &&
        this.#options.queue.peek().length === 0
      ) {
        return this.report();
      }
    }
  }

  #guard(limit: number): void {
    if (this.#report.detectInvocations + this.#report.downloadInvocations > limit) {
      throw new Error(
        `the pipeline did not converge in ${limit} invocations (${JSON.stringify(this.report())})`,
      );
    }
  }

  /**
   * Reads the durable archive back and lists what is wrong with it: an object whose bytes do not
   * hash to its `icloud-sha256`, the same bytes under two keys, a manifest version whose object
   * is missing or different, an object no manifest entry lists, an entry left `failed`. Only the
   * library's objects: not the catalog, the album views or the Shared Albums.
   */
  async audit(): Promise<ArchiveAudit> {
    const { objects, state } = this.#options;
    const problems: string[] = [];
    const byKey = new Map<string, { sha256: string; size: number }>();
    const keysByDigest = new Map<string, string[]>();
    for (const key of objects.keys()) {
      // The catalog, album views and Shared Albums are checked against their own truth.
      if (!isLibraryObjectKey(key)) continue;
      const stored = await objects.getStream(key);
      if (stored === undefined) continue;
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of stored.body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      const sha256 = hash.digest('hex');
      if (stored.head.metadata['icloud-sha256'] !== sha256)
        problems.push(`object ${key}: icloud-sha256 does not match its bytes`);
      byKey.set(key, { sha256, size });
      keysByDigest.set(sha256, [...(keysByDigest.get(sha256) ?? []), key]);
    }
    for (const [sha256, keys] of keysByDigest) {
      if (keys.length > 1) problems.push(`the same bytes (${sha256.slice(0, 12)}) under ${keys.join(', ')}`);
    }
    const entries: ManifestEntry[] = [];
    const listed = new Set<string>();
    for await (const entry of state.entries()) {
      entries.push(entry);
      if (entry.status === 'failed')
        problems.push(`entry ${entry.assetRecordName} failed: ${entry.failure?.reason}`);
      for (const version of entry.versions) {
        listed.add(version.key);
        const object = byKey.get(version.key);
        if (object === undefined)
          problems.push(`entry ${entry.assetRecordName}: ${version.kind} ${version.key} has no object`);
        else if (object.sha256 !== version.sha256 || object.size !== version.size)
          problems.push(
            `entry ${entry.assetRecordName}: ${version.kind} ${version.key} differs from its object`,
          );
      }
    }
    for (const key of byKey.keys()) {
      if (!listed.has(key)) problems.push(`object ${key} is in no manifest entry`);
    }
    return { digests: new Set(keysByDigest.keys()), problems, entries };
  }

  report(): RuntimeReport {
    return {
      detectInvocations: this.#report.detectInvocations,
      downloadInvocations: this.#report.downloadInvocations,
      crashes: [...this.#options.schedule.fired],
      unexpectedErrors: [...this.#report.unexpectedErrors],
      failedRecords: this.#report.failedRecords,
      ...(this.#report.lastDetect ? { lastDetect: this.#report.lastDetect } : {}),
    };
  }
}

/** An archived file of the library, not a derived object (catalog, album view) or a Shared Album's. */
export function isLibraryObjectKey(key: string): boolean {
  return !isDerivedKey(key) && !isSharedAlbumKey(key);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
