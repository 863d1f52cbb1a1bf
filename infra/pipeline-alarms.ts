import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  ComparisonOperator,
  CompositeAlarm,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, SERVICE_NAMES } from '../functions/shared/env-names.ts';
import type { PipelineFunction } from './pipeline-function.ts';

/** A session's trust lasts ~30-60 days; warn this many days before it runs out (kei does 7). */
export const TRUST_WARNING_DAYS = 7;

export interface PipelineAlarmsProps {
  readonly stackName: string;
  readonly alarmEmail: string | undefined;
  readonly scheduleMinutes: number;
  readonly noSyncAlarmHours: number;
  readonly queueAgeAlarmHours: number;
  readonly detector: PipelineFunction;
  readonly workQueue: Queue;
  readonly deadLetterQueue: Queue;
}

/**
 * How long a composite alarm holds back its actions after its alarm fires, for `ReauthRequired`
 * to reach ALARM when the same latch caused both (it fires within minutes of the latch: the run
 * that finds it emits `reauthRequired`; the alarms it silences follow hours later).
 */
export const SUPPRESSOR_WAIT = Duration.minutes(10);

/**
 * The pipeline's alarms, all sent (alarm and recovery) to one encrypted SNS topic with an
 * optional email subscription. Each one names a condition a human must act on; docs/deploy.md
 * says what to do for each.
 *
 * One condition, one notification: a latched sign-in (`ReauthRequired`) also fills the
 * dead-letter queue, ages the queued work and stops the syncs. Those three alarms notify through
 * a composite alarm each (`<name>Notice`) whose actions `ReauthRequired` suppresses while in ALARM
 * and for one schedule period and half an hour after it (the first run after the login sends the
 * dead letters back and syncs; SQS's and the functions' metrics then show it): a condition that
 * outlasts the login notifies then.
 */
export class PipelineAlarms extends Construct {
  readonly topic: Topic;
  readonly deadLetters: Alarm;
  readonly queueBacklog: Alarm;
  readonly detectorErrors: Alarm;
  readonly reauthRequired: Alarm;
  readonly noRecentSync: Alarm;
  readonly trustExpiring: Alarm;
  readonly deletionRefused: Alarm;
  readonly workGivenUp: Alarm;
  /** The alarms a latched sign-in also trips, each notifying only while signed in. */
  readonly deadLettersNotice: CompositeAlarm;
  readonly queueBacklogNotice: CompositeAlarm;
  readonly noRecentSyncNotice: CompositeAlarm;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key (its policy
    // does not let CloudWatch use it): the topic needs a customer key that allows it.
    const key = new Key(this, 'TopicKey', {
      description: `Encrypts the icloud-s3 ${props.stackName} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: `icloud-s3 ${props.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const schedule = Duration.minutes(props.scheduleMinutes);
    const pipelineMetric = (service: string, metricName: string, statistic: string, period: Duration) =>
      new Metric({
        namespace: METRICS.namespace,
        metricName,
        dimensionsMap: { service },
        statistic,
        period,
      });

    this.deadLetters = new Alarm(this, 'DeadLetters', {
      alarmDescription:
        'Downloads failed 5 times and were parked in the dead-letter queue. The detector redrives them on its next runs (1-8 h apart, 5 times); read the worker logs if this keeps firing (docs/deploy.md).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.queueBacklog = new Alarm(this, 'QueueBacklog', {
      alarmDescription: `The oldest download has waited more than ${props.queueAgeAlarmHours} h: workers are failing, throttled by Apple, or not running.`,
      metric: props.workQueue.metricApproximateAgeOfOldestMessage({
        statistic: Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: props.queueAgeAlarmHours * 3600,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Two runs in a row, so a single transient failure does not page anyone. Past 12 h per run,
    // two periods would not fit CloudWatch's evaluation range for long schedules: one run counts.
    const errorRuns = props.scheduleMinutes <= 720 ? 2 : 1;
    this.detectorErrors = new Alarm(this, 'DetectorErrors', {
      alarmDescription: `The change detector failed ${errorRuns === 2 ? 'two runs in a row' : 'its last run'}. Read its logs.`,
      metric: props.detector.function.metricErrors({ statistic: Stats.SUM, period: schedule }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: errorRuns,
      datapointsToAlarm: errorRuns,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.reauthRequired = new Alarm(this, 'ReauthRequired', {
      alarmDescription: `Apple wants a new sign-in with two-factor. Run: npx icloud-s3 login --aws --stack ${props.stackName}. If the failed run (npx icloud-s3 status) says ZONE_NOT_FOUND or ACCESS_DENIED for your photo library, a sign-in does not help: turn on iCloud Photos and "Access iCloud Data on the Web" and turn off Advanced Data Protection; the next run goes on by itself.`,
      // Either function may find the session needs a person (and latches it: `reauthRequired`
      // once); every later detector run stops on the latch without asking Apple and reports
      // `signInPending`, which holds the alarm in ALARM: one notification, and OK after `login`.
      metric: new MathExpression({
        expression: 'MAX([detector, worker, pending])',
        usingMetrics: {
          detector: pipelineMetric(
            SERVICE_NAMES.detectChanges,
            METRICS.reauthRequired,
            Stats.MAXIMUM,
            schedule,
          ),
          worker: pipelineMetric(
            SERVICE_NAMES.downloadAssets,
            METRICS.reauthRequired,
            Stats.MAXIMUM,
            schedule,
          ),
          pending: pipelineMetric(
            SERVICE_NAMES.detectChanges,
            METRICS.signInPending,
            Stats.MAXIMUM,
            schedule,
          ),
        },
        period: schedule,
        label: 'sign-in needed',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Hourly datapoints, all N missing or zero: "no success in the last N hours". Missing data is
    // the failure being watched for (a detector that never runs emits nothing), so it breaches.
    this.noRecentSync = new Alarm(this, 'NoRecentSync', {
      alarmDescription: `No sync has completed for ${props.noSyncAlarmHours} h. Check the other alarms and the detector logs.`,
      metric: pipelineMetric(
        SERVICE_NAMES.detectChanges,
        METRICS.syncSucceeded,
        Stats.SUM,
        Duration.hours(1),
      ),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.noSyncAlarmHours,
      datapointsToAlarm: props.noSyncAlarmHours,
      treatMissingData: TreatMissingData.BREACHING,
    });

    this.trustExpiring = new Alarm(this, 'TrustExpiring', {
      alarmDescription: `The iCloud trust expires within ${TRUST_WARNING_DAYS} days. Renew it before it does: npx icloud-s3 login --aws --stack ${props.stackName}`,
      metric: pipelineMetric(
        SERVICE_NAMES.detectChanges,
        METRICS.trustExpiresInDays,
        Stats.MINIMUM,
        schedule,
      ),
      threshold: TRUST_WARNING_DAYS,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // Only a run that opened the session reports the trust; a latched run (the trust has often
      // just run out) reports nothing: the alarm keeps its state until a run reports again, so
      // its OK means renewed, never merely unreported.
      treatMissingData: TreatMissingData.IGNORE,
    });

    // Under `mirror`, a run that would delete too much of the archive deletes nothing and stops
    // short (its token is kept, so every later run stops too): a person must look.
    this.deletionRefused = new Alarm(this, 'DeletionRefused', {
      alarmDescription:
        'A sync refused to delete a large part of the archive and stopped (delete policy mirror). Check what was purged in iCloud; the detection log ("mass deletion refused") names the least icloudS3:maxDeleteCount and icloudS3:maxDeleteFraction that let it through: redeploy with them, then with your usual limits once a run succeeds.',
      metric: pipelineMetric(SERVICE_NAMES.detectChanges, METRICS.deletionRefused, Stats.MAXIMUM, schedule),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Dead-lettered work that failed after every redrive (about a day of tries): its photos move to
    // the failed photos' retry list (tried daily, never dropped) and the message leaves the
    // dead-letter queue, counted once, and only for a photo not on the list yet (the list's daily
    // copies, given up again while the cause stands, are not told again). A photo recorded failed that still fails after about a day of retries is counted once, and so
    // is a Shared Albums step that has failed on every run for a day (once per streak), and an
    // album walk that has read only part of the albums on every walk for a day (once per streak).
    this.workGivenUp = new Alarm(this, 'WorkGivenUp', {
      alarmDescription:
        "Downloads kept failing after a day of automatic tries: dead-lettered work after every redrive (its photos are now on the failed photos' retry list), a photo recorded failed (icloud-s3 status lists it with its reason), or the Shared Albums step failing on every run for a day (status says since when and the error class; each run tries again), or every album walk for a day reading only part of the albums (status says since when). Read the worker or detector logs and fix the cause; nothing more is needed: the retry list tries its photos daily and never drops them, so they are archived within a day of the fix (docs/deploy.md).",
      metric: pipelineMetric(SERVICE_NAMES.detectChanges, METRICS.workGivenUp, Stats.MAXIMUM, schedule),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const suppressedWhileSignInNeeded = (alarm: Alarm, what: string) =>
      new CompositeAlarm(this, `${alarm.node.id}Notice`, {
        alarmDescription: `${alarm.node.id}: ${what} Not sent while ReauthRequired is in ALARM (a latched sign-in causes this too, and the first run after the login clears it); docs/deploy.md says what to do.`,
        alarmRule: AlarmRule.fromAlarm(alarm, AlarmState.ALARM),
        actionsSuppressor: this.reauthRequired,
        actionsSuppressorWaitPeriod: SUPPRESSOR_WAIT,
        // The first run after the login redrives and syncs: its effects show within the period.
        actionsSuppressorExtensionPeriod: schedule.plus(Duration.minutes(30)),
      });
    this.deadLettersNotice = suppressedWhileSignInNeeded(
      this.deadLetters,
      'downloads failed 5 times and wait in the dead-letter queue.',
    );
    this.queueBacklogNotice = suppressedWhileSignInNeeded(
      this.queueBacklog,
      `the oldest download has waited more than ${props.queueAgeAlarmHours} h.`,
    );
    this.noRecentSyncNotice = suppressedWhileSignInNeeded(
      this.noRecentSync,
      `no sync has completed for ${props.noSyncAlarmHours} h.`,
    );

    const action = new SnsAction(this.topic);
    for (const alarm of this.notifying()) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }

  /** What sends to the topic: the alarms no latch trips, and the composites of those one does. */
  notifying(): (Alarm | CompositeAlarm)[] {
    return [
      this.reauthRequired,
      this.detectorErrors,
      this.trustExpiring,
      this.deletionRefused,
      this.workGivenUp,
      this.deadLettersNotice,
      this.queueBacklogNotice,
      this.noRecentSyncNotice,
    ];
  }

  /** Every metric alarm (the dashboard shows their states). */
  all(): Alarm[] {
    return [
      this.deadLetters,
      this.queueBacklog,
      this.detectorErrors,
      this.reauthRequired,
      this.noRecentSync,
      this.trustExpiring,
      this.deletionRefused,
      this.workGivenUp,
    ];
  }
}
