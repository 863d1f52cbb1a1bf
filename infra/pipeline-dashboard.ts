import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  Metric,
  SingleValueWidget,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, SERVICE_NAMES } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

export interface PipelineDashboardProps {
  readonly dashboardName: string;
  readonly title: string;
  readonly detector: PipelineFunction;
  readonly worker: PipelineFunction;
  readonly workQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly alarms: readonly IAlarm[];
}

/**
 * The pipeline at a glance, top to bottom in the order data flows: alarms; runs and what they
 * archived; requests to Apple and failures; the queue; the two functions.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const hourly = Duration.hours(1);
    const detector = SERVICE_NAMES.detectChanges;
    const worker = SERVICE_NAMES.downloadAssets;
    const pipeline = (
      service: string,
      metricName: string,
      label: string,
      statistic: string = Stats.SUM,
    ): IMetric =>
      new Metric({
        namespace: METRICS.namespace,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: hourly,
        label,
      });
    const fiveMinutes = Duration.minutes(5);
    const functions = [
      { fn: props.detector, name: 'detector' },
      { fn: props.worker, name: 'worker' },
    ];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# icloud-s3 ${props.title}\nEventBridge -> change detector -> work queue -> download workers -> archive bucket. What each alarm means: docs/deploy.md.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sync runs (succeeded per hour)',
        left: [
          pipeline(detector, METRICS.syncSucceeded, 'succeeded'),
          props.detector.function.metricInvocations({ period: hourly, label: 'detector runs' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Assets archived / failed per hour',
        left: [
          pipeline(worker, METRICS.assetsArchived, 'archived'),
          pipeline(worker, METRICS.assetsFailed, 'failed'),
          pipeline(worker, METRICS.workMessagesRejected, 'unreadable work'),
          pipeline(detector, METRICS.workRedriven, 'redriven'),
          pipeline(detector, METRICS.workGivenUp, 'given up', Stats.MAXIMUM),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Bytes archived per hour',
        left: [pipeline(worker, METRICS.bytesArchived, 'bytes')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Requests to Apple per hour',
        left: [
          pipeline(detector, METRICS.appleRequests, 'detector requests'),
          pipeline(worker, METRICS.appleRequests, 'worker requests'),
        ],
        width: 8,
      }),
      new SingleValueWidget({
        title: 'Session',
        metrics: [
          pipeline(detector, METRICS.trustExpiresInDays, 'trust expires in (days)', Stats.MINIMUM),
          pipeline(detector, METRICS.reauthRequired, 'sign-in needed (detector)', Stats.MAXIMUM),
          pipeline(worker, METRICS.reauthRequired, 'sign-in needed (worker)', Stats.MAXIMUM),
          pipeline(detector, METRICS.signInPending, 'sign-in still pending', Stats.MAXIMUM),
          pipeline(detector, METRICS.deletionRefused, 'deletion refused', Stats.MAXIMUM),
          // A worker found the bucket has Object Lock the stack was not told of (docs/deploy.md).
          pipeline(worker, METRICS.objectLockUndeclared, 'Object Lock not declared', Stats.MAXIMUM),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Work queue and dead letters',
        left: [
          props.workQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, label: 'waiting' }),
          props.workQueue.metricApproximateNumberOfMessagesNotVisible({
            period: fiveMinutes,
            label: 'in flight',
          }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: fiveMinutes,
            label: 'dead letters',
          }),
        ],
        right: [
          props.workQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, label: 'oldest (s)' }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors and throttles',
        left: functions.flatMap(({ fn, name }) => [
          fn.function.metricErrors({ period: fiveMinutes, label: `${name} errors` }),
          fn.function.metricThrottles({ period: fiveMinutes, label: `${name} throttles` }),
        ]),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration (p95, max)',
        left: functions.flatMap(({ fn, name }) => [
          fn.function.metricDuration({ period: fiveMinutes, statistic: Stats.p(95), label: `${name} p95` }),
          fn.function.metricDuration({ period: fiveMinutes, statistic: Stats.MAXIMUM, label: `${name} max` }),
        ]),
        width: 12,
      }),
    );
  }
}
