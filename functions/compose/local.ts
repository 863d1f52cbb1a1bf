/**
 * The local composition root: the one-machine runtime's adapters (the local S3/DynamoDB/SQS
 * servers under a folder, the iCloud connection from the session file) and the dependencies of
 * each use case, with the same defaults as the Lambdas (`PIPELINE_DEFAULTS`).
 */
import { parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import type { DetectionRunDeps } from '#app/detection-run.ts';
import type { DownloadBatchDeps } from '#app/download-batch.ts';
import type { DryRunDeps } from '#app/dry-run.ts';
import type { MessageResult } from '#domain/archive/process-work-message.ts';
import { DEFAULT_DELETE_POLICY, type DeletePolicy } from '#domain/plan/delete-policy.ts';
import { DEFAULT_VERSION_POLICY, type VersionPolicy } from '#domain/plan/version-policy.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';
import type { Logger } from '#shared/logger.ts';
import { CollectedMetrics } from '#shared/pipeline-metrics.ts';
import { type IcloudAdapters, openIcloudAdapters } from './icloud-adapters.ts';
import { type LocalAwsStack, openLocalAwsStack } from './local-aws-stack.ts';

export interface LocalCompositionOptions {
  /** Pipeline state and the archive live here. */
  readonly dataDir: string;
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly deletePolicy?: DeletePolicy;
  readonly versionPolicy?: VersionPolicy;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
}

export interface LocalComposition {
  readonly stack: LocalAwsStack;
  /** Everything the run's invocations emitted, for the summary. */
  readonly metrics: CollectedMetrics;
  /** The iCloud connection, opened on first use and shared by every invocation of the run. */
  icloud(): Promise<IcloudAdapters>;
  /** The connection, if something opened it. */
  openedIcloud(): IcloudAdapters | undefined;
  readonly detection: DetectionRunDeps;
  downloads(onMessage: (result: MessageResult) => void): DownloadBatchDeps;
  readonly dryRun: DryRunDeps;
  /** Saves the session (if opened) and stops the local servers. */
  close(): Promise<void>;
}

export async function composeLocal(options: LocalCompositionOptions): Promise<LocalComposition> {
  const stack = await openLocalAwsStack({ dataDir: options.dataDir });
  const metrics = new CollectedMetrics();
  const deletePolicy = options.deletePolicy ?? DEFAULT_DELETE_POLICY;
  const versionPolicy = options.versionPolicy ?? DEFAULT_VERSION_POLICY;
  let opened: IcloudAdapters | undefined;
  const icloud = async () => {
    opened ??= await openIcloudAdapters({
      endpoint: options.endpoint,
      store: options.store,
      logger: options.logger,
      ...(options.observer ? { observer: options.observer } : {}),
    });
    return opened;
  };
  return {
    stack,
    metrics,
    icloud,
    openedIcloud: () => opened,
    detection: {
      state: stack.state,
      queue: stack.queue,
      icloud,
      deletePolicy,
      reserveMs: PIPELINE_DEFAULTS.deadlineReserveMs,
      logger: options.logger,
      metrics,
    },
    downloads: (onMessage) => ({
      archive: {
        state: stack.state,
        objects: stack.objects,
        versionPolicy,
        deletePolicy: deletePolicy.mode,
        now: Date.now,
      },
      icloud,
      decode: parseWorkMessage,
      logger: options.logger,
      metrics,
      reserveMs: PIPELINE_DEFAULTS.deadlineReserveMs,
      onMessage,
    }),
    dryRun: { state: stack.state, icloud, deletePolicy, versionPolicy },
    async close() {
      await opened?.session.save().catch(() => undefined);
      await stack.stop();
    },
  };
}
