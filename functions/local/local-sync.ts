/**
 * One full pipeline run on this machine: the same handlers as in Lambda, against the local
 * S3/DynamoDB/SQS servers. It plays EventBridge (invokes the detector until it has caught up,
 * as successive schedule ticks would) and the SQS-to-Lambda trigger (pollers that invoke the
 * download handler with SQS events and delete what succeeded).
 *
 * The local SQS keeps messages in memory. A run that was killed before its queue drained would
 * lose work whose tokens had already advanced, so an unclean previous run (its marker file is
 * still there) makes this run re-enumerate every zone: the archive skips what it already has
 * and fetches only what is missing.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import type { ChangeKind } from '#domain/classify-change.ts';
import { detectChanges } from '#domain/detect/detect-changes.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY, type VersionPolicy } from '#domain/plan/version-policy.ts';
import { createDetectHandler, type DetectInvocationResult } from '#handlers/detect-changes/detect-handler.ts';
import { createDownloadHandler } from '#handlers/download-assets/download-handler.ts';
import { type IcloudAdapters, openIcloudAdapters } from '#handlers/shared/icloud-adapters.ts';
import { CollectedMetrics } from '#handlers/shared/pipeline-metrics.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { Logger } from '#shared/logger.ts';
import type { WorkMessage } from '#shared/work-message.ts';
import { dryRunState } from './dry-run-state.ts';
import { createLambdaContext } from './lambda-context.ts';
import { openLocalAwsStack } from './local-aws-stack.ts';
import { pollOnce } from './sqs-event-source.ts';

export interface LocalSyncOptions {
  /** Pipeline state and the archive live here; the next run is incremental. */
  readonly dataDir: string;
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly deletePolicy?: DeletePolicy;
  readonly versionPolicy?: VersionPolicy;
  /** Walk what would change and plan it; write nothing, download nothing. */
  readonly dryRun?: boolean;
  /** Parallel download pollers (Lambda's event-source concurrency). */
  readonly concurrency?: number;
  /** A detector invocation's time limit (Lambda's timeout). */
  readonly detectTimeoutMs?: number;
  readonly onProgress?: (progress: SyncProgress) => void;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
}

export interface SyncProgress {
  readonly phase: 'detecting' | 'downloading' | 'done';
  readonly itemsEnqueued: number;
  readonly itemsDone: number;
  readonly bytesArchived: number;
}

export interface SyncSummary {
  /**
   * `deletionRefused`: the mirror safety stop refused the run (see `deletionRefused`); nothing
   * was deleted and the next run meets the same stop until the limit is raised.
   */
  readonly outcome: 'succeeded' | 'partial' | 'idle' | 'reauthRequired' | 'deletionRefused' | 'dryRun';
  readonly dryRun: boolean;
  readonly detectRuns: number;
  readonly itemsEnqueued: number;
  readonly assets: {
    readonly archived: number;
    readonly skipped: number;
    readonly updated: number;
    readonly failed: number;
    readonly deleted: number;
  };
  readonly versionsArchived: number;
  readonly bytesArchived: number;
  readonly appleRequests: Readonly<Record<string, number>>;
  readonly appleRequestsTotal: number;
  readonly durationMs: number;
  /** Work messages moved to the dead-letter queue (failed five times). */
  readonly deadLetters: number;
  readonly failures: readonly { readonly subject: string; readonly reason: string }[];
  /** What the run's changes were, by kind (`new`, `edited`, `trashed`, `metadataChanged`...). */
  readonly changes?: Readonly<Partial<Record<ChangeKind, number>>>;
  /** When the session needs a person: what to run. */
  readonly action?: string;
  /** The numbers of a refused mass deletion (outcome `deletionRefused`). */
  readonly deletionRefused?: {
    readonly wouldDelete: number;
    readonly archiveObjects: number;
    readonly limit: number;
  };
  readonly message?: string;
}

const MARKER = 'sync-in-progress';
const MAX_DETECT_RUNS = 1000;

/** Re-enumerates every zone (after an unclean stop): keeps the archive, re-walks the library. */
async function forgetZoneTokens(state: import('#ports/sync-state-store.ts').SyncStateStore): Promise<void> {
  for (const zone of await state.loadZones()) {
    if (zone.retired) continue;
    await state.saveZone({ zone: zone.zone }, zone.revision);
  }
}

export async function runLocalSync(options: LocalSyncOptions): Promise<SyncSummary> {
  const started = Date.now();
  await mkdir(options.dataDir, { recursive: true });
  const stack = await openLocalAwsStack({ dataDir: options.dataDir });
  const marker = path.join(options.dataDir, MARKER);
  const metrics = new CollectedMetrics();
  let icloud: IcloudAdapters | undefined;
  const openIcloud = async () => {
    icloud ??= await openIcloudAdapters({
      endpoint: options.endpoint,
      store: options.store,
      logger: options.logger,
      ...(options.observer ? { observer: options.observer } : {}),
    });
    return icloud;
  };
  try {
    if (options.dryRun) return await dryRun(options, stack, openIcloud, started);
    if (existsSync(marker)) {
      options.logger.warn(
        'the previous sync did not finish: re-walking the library to find anything it left undone',
      );
      await forgetZoneTokens(stack.state);
    }
    await writeFile(marker, `${new Date().toISOString()}\n`);

    const totals = {
      archived: 0,
      skipped: 0,
      updated: 0,
      failed: 0,
      deleted: 0,
      versions: 0,
      bytes: 0,
      done: 0,
    };
    const failures: { subject: string; reason: string }[] = [];
    const changes: Partial<Record<ChangeKind, number>> = {};
    let itemsEnqueued = 0;
    const report = (phase: SyncProgress['phase']) =>
      options.onProgress?.({ phase, itemsEnqueued, itemsDone: totals.done, bytesArchived: totals.bytes });

    const detect = createDetectHandler({
      state: stack.state,
      queue: stack.queue,
      icloud: openIcloud,
      deletePolicy: options.deletePolicy ?? DEFAULT_DELETE_POLICY,
      reserveMs: 20_000,
      logger: options.logger,
      metrics,
    });
    const download = createDownloadHandler({
      archive: {
        state: stack.state,
        objects: stack.objects,
        versionPolicy: options.versionPolicy ?? DEFAULT_VERSION_POLICY,
        deletePolicy: (options.deletePolicy ?? DEFAULT_DELETE_POLICY).mode,
        now: Date.now,
        upload: { partSize: 8 * 1024 * 1024, queueSize: 4 },
      },
      icloud: openIcloud,
      logger: options.logger,
      metrics,
      reserveMs: 30_000,
      onMessage: (result: MessageResult) => {
        totals.archived += result.archived;
        totals.skipped += result.unchanged;
        totals.updated += result.updated;
        totals.deleted += result.purged;
        totals.failed += result.failed;
        totals.versions += result.versionsArchived;
        totals.bytes += result.bytesArchived;
        for (const [kind, n] of Object.entries(result.changes) as [ChangeKind, number][]) {
          changes[kind] = (changes[kind] ?? 0) + n;
        }
        totals.done += result.items;
        failures.push(...result.failures);
        report('downloading');
      },
    });

    const drain = async () => {
      const worker = async () => {
        for (;;) {
          const outcome = await pollOnce({
            sqs: stack.clients.sqs,
            queueUrl: stack.queues.queueUrl,
            queueArn: stack.queues.queueArn,
            handler: download,
            context: () => createLambdaContext('download-assets', 15 * 60 * 1000),
            batchSize: 5,
            visibilityTimeoutSeconds: 900,
            retryDelaySeconds: 1,
          });
          if (outcome === undefined) {
            // Empty now; failed messages reappear after their retry delay.
            if (!(await queueHasMessages(stack))) return;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
    };

    let detectRuns = 0;
    let last: DetectInvocationResult | undefined;
    for (; detectRuns < MAX_DETECT_RUNS; ) {
      report('detecting');
      detectRuns++;
      last = await detect(
        {},
        createLambdaContext('detect-changes', options.detectTimeoutMs ?? 15 * 60 * 1000),
      );
      if (last.outcome === 'reauthRequired') break;
      if ('itemsEnqueued' in last) itemsEnqueued += last.itemsEnqueued;
      // A refused run still drains what its earlier pages put on the queue: their tokens moved on.
      await drain();
      if (last.outcome !== 'continued') break;
    }
    report('done');
    const deadLetters = await countMessages(stack, stack.queues.deadLetterQueueUrl);
    await rm(marker, { force: true });
    const appleRequests = icloud?.requests.counts() ?? {};
    const base = {
      dryRun: false,
      detectRuns,
      itemsEnqueued,
      assets: {
        archived: totals.archived,
        skipped: totals.skipped,
        updated: totals.updated,
        failed: totals.failed,
        deleted: totals.deleted,
      },
      versionsArchived: totals.versions,
      bytesArchived: totals.bytes,
      appleRequests,
      appleRequestsTotal: icloud?.requests.total() ?? 0,
      durationMs: Date.now() - started,
      deadLetters,
      failures: failures.slice(0, 50),
      changes,
    };
    if (last?.outcome === 'reauthRequired') {
      return { ...base, outcome: 'reauthRequired', action: last.action, message: last.message };
    }
    if (last?.outcome === 'deletionRefused') {
      const { wouldDelete, archiveObjects, limit } = last;
      return {
        ...base,
        outcome: 'deletionRefused',
        message: last.message,
        deletionRefused: { wouldDelete, archiveObjects, limit },
      };
    }
    const outcome =
      last?.outcome === 'idle'
        ? 'idle'
        : deadLetters > 0 || totals.failed > 0 || last?.outcome !== 'caughtUp'
          ? 'partial'
          : 'succeeded';
    return { ...base, outcome };
  } finally {
    await icloud?.session.save().catch(() => undefined);
    await stack.stop();
  }
}

async function countMessages(
  stack: Awaited<ReturnType<typeof openLocalAwsStack>>,
  queueUrl: string,
): Promise<number> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const attributes = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function queueHasMessages(stack: Awaited<ReturnType<typeof openLocalAwsStack>>): Promise<boolean> {
  return countMessages(stack, stack.queues.queueUrl).then((n) => n > 0);
}

/** Walks what a real run would (detection over a read-only view of the state) and plans it. */
async function dryRun(
  options: LocalSyncOptions,
  stack: Awaited<ReturnType<typeof openLocalAwsStack>>,
  openIcloud: () => Promise<IcloudAdapters>,
  started: number,
): Promise<SyncSummary> {
  const icloud = await openIcloud();
  const messages: WorkMessage[] = [];
  const result = await detectChanges({
    source: icloud.source,
    state: dryRunState(stack.state),
    queue: {
      enqueue: async (batch) => {
        messages.push(...batch);
        return { requested: batch.length, sent: batch.length };
      },
    },
    now: Date.now,
    remainingMs: () => Number.MAX_SAFE_INTEGER,
    runId: `dry-run-${started}`,
    deletePolicy: options.deletePolicy ?? DEFAULT_DELETE_POLICY,
  });
  const items = messages.flatMap((m) => m.items);
  let archived = 0;
  let skipped = 0;
  let bytes = 0;
  let versions = 0;
  const { planVersions } = await import('#domain/plan/plan-versions.ts');
  for (const item of items) {
    if (item.type !== 'asset') continue;
    const entry = await stack.state.getEntry({
      zone: item.asset.zone,
      assetRecordName: item.asset.assetRecordName,
    });
    const missing = planVersions(item.asset, options.versionPolicy ?? DEFAULT_VERSION_POLICY).filter(
      (p) => !entry?.versions.some((v) => v.kind === p.kind && v.fileChecksum === p.version.fileChecksum),
    );
    if (missing.length === 0) skipped++;
    else archived++;
    versions += missing.length;
    bytes += missing.reduce((sum, p) => sum + p.version.size, 0);
  }
  return {
    outcome: result.outcome === 'idle' ? 'idle' : 'dryRun',
    dryRun: true,
    detectRuns: 1,
    itemsEnqueued: items.length,
    assets: {
      archived,
      skipped,
      updated: items.filter((i) => i.type === 'assetOnly' || i.type === 'albumMembership').length,
      failed: 0,
      deleted: items.filter((i) => i.type === 'tombstone').length,
    },
    versionsArchived: versions,
    bytesArchived: bytes,
    appleRequests: icloud.requests.counts(),
    appleRequestsTotal: icloud.requests.total(),
    durationMs: Date.now() - started,
    deadLetters: 0,
    failures: [],
  };
}
