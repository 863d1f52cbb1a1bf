import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, SERVICE_NAMES } from '../functions/shared/env-names.ts';
import type { InfraConfig } from './config.ts';
import { type FunctionSource, PipelineFunction, setSyncSettings } from './pipeline-function.ts';

/**
 * Estimates until the benchmark refines them. An incremental run is a few CloudKit calls
 * (validate, changes/database, changes/zone pages of 200 records, one SQS batch per 10 assets):
 * seconds. The first sync of a large library pages through every record; at ~0.5-1 s per page of
 * 200 that is 2-4 minutes for 50,000 photos, and the detector checkpoints and continues on the
 * next tick when it runs short. 5 minutes leaves room for Apple's slow pages without letting a
 * hung run block the next ticks for long.
 */
export const DETECTOR_TIMEOUT = Duration.minutes(5);
/** JSON pages, the cookie jar, SRP math and a 200-record buffer: 512 MB (~0.3 vCPU) is plenty. */
export const DETECTOR_MEMORY_MB = 512;
/** Kept back from the deadline to persist the checkpoint and release the lock. */
export const DETECTOR_DEADLINE_RESERVE_MS = 30_000;

export interface ChangeDetectorProps {
  readonly source: FunctionSource;
  readonly config: InfraConfig;
  readonly logRetention: RetentionDays;
}

/**
 * Asks Apple what changed since the stored sync token and enqueues download work, on an
 * EventBridge schedule. Never two at once: reserved concurrency 1 here, the run lock in the
 * table inside. A failed run is not retried by Lambda (retryAttempts 0) because the next tick
 * is the retry, and a tick that cannot start before the next one is due is dropped.
 */
export class ChangeDetector extends Construct {
  readonly fn: PipelineFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ChangeDetectorProps) {
    super(scope, id);
    const { config } = props;
    const interval = Duration.minutes(config.scheduleMinutes);
    // Lambda's and EventBridge's event ages must be 60 s to 6 h.
    const maxEventAge = Duration.seconds(Math.min(Math.max(interval.toSeconds(), 60), 6 * 3600));

    this.fn = new PipelineFunction(this, 'Detector', {
      source: props.source,
      description: `icloud-s3 ${config.stackName}: detect iCloud Photos changes and enqueue downloads`,
      timeout: DETECTOR_TIMEOUT,
      memorySize: DETECTOR_MEMORY_MB,
      logRetention: props.logRetention,
      serviceName: SERVICE_NAMES.detectChanges,
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge,
    });
    setSyncSettings(this.fn, config);
    this.fn.addEnvironment(ENV.deadlineReserveMs, String(DETECTOR_DEADLINE_RESERVE_MS));

    this.rule = new Rule(this, 'Schedule', {
      description: `icloud-s3 ${config.stackName}: look for iCloud Photos changes every ${config.scheduleMinutes} minutes`,
      schedule: Schedule.rate(interval),
      targets: [new LambdaFunction(this.fn.function, { retryAttempts: 2, maxEventAge })],
    });
  }
}
