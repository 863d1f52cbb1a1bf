import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { HANDLER_ENTRIES } from '../functions/shared/env-names.ts';
import { ArchiveBucket } from './archive-bucket.ts';
import { ChangeDetector } from './change-detector.ts';
import type { InfraConfig } from './config.ts';
import {
  DOWNLOAD_BATCH_SIZE,
  DOWNLOAD_BATCHING_WINDOW,
  DOWNLOAD_TIMEOUT,
  DownloadWorkers,
} from './download-workers.ts';
import { PipelineAlarms } from './pipeline-alarms.ts';
import { PipelineDashboard } from './pipeline-dashboard.ts';
import type { FunctionSource } from './pipeline-function.ts';
import { SessionSecret } from './session-secret.ts';
import { DELETABLE_STATE_ITEMS, StateTable, WORKER_BATCH_WRITTEN_ITEMS } from './state-table.ts';
import { WorkQueue } from './work-queue.ts';

/** The repository root: infra/ sits directly under it. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface IcloudS3StackProps extends StackProps {
  readonly config: InfraConfig;
}

/**
 * The whole pipeline in one stack: archive bucket, state table, work queue, session secret,
 * change detector on a schedule, download workers fed by the queue, alarms and a dashboard.
 * Stateful resources (bucket, table, secret, KMS key) are retained when the stack is deleted.
 */
export class IcloudS3Stack extends Stack {
  readonly archive: ArchiveBucket;
  readonly state: StateTable;
  readonly session: SessionSecret;
  readonly work: WorkQueue;
  readonly detector: ChangeDetector;
  readonly workers: DownloadWorkers;
  readonly alarms: PipelineAlarms;
  readonly dashboard: PipelineDashboard;

  constructor(scope: Construct, id: string, props: IcloudS3StackProps) {
    super(scope, id, { ...props, stackName: props.config.stackName });
    const { config } = props;
    // Deliver server access logs through a bucket policy, not the legacy LogDeliveryWrite ACL
    // (ACLs stay disabled on every bucket). Set here, before any child exists, so it holds
    // whatever cdk.json says.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const source = (entry: string): FunctionSource => {
      const path = resolve(REPOSITORY_ROOT, entry);
      if (!existsSync(path)) throw new Error(`Handler entry ${path} does not exist; cannot bundle it.`);
      return { entry: path, projectRoot: REPOSITORY_ROOT };
    };
    const logRetention = config.logRetentionDays as RetentionDays;

    const archive = new ArchiveBucket(this, 'Archive', config);
    const state = new StateTable(this, 'State');
    const session = new SessionSecret(this, 'Session', { stackName: config.stackName });
    const work = new WorkQueue(this, 'Work', {
      consumerTimeout: DOWNLOAD_TIMEOUT,
      consumerBatchingWindow: DOWNLOAD_BATCHING_WINDOW,
    });

    const detector = new ChangeDetector(this, 'ChangeDetector', {
      source: source(HANDLER_ENTRIES.detectChanges),
      config,
      logRetention,
    });
    state.grantReadWrite(detector.fn, [
      DELETABLE_STATE_ITEMS.runLock,
      DELETABLE_STATE_ITEMS.albumMember,
      DELETABLE_STATE_ITEMS.failedRetry,
      DELETABLE_STATE_ITEMS.sharedAlbumsPart,
    ]);
    session.grantRefresh(detector.fn);
    work.grantSend(detector.fn);
    work.grantRedrive(detector.fn);
    // The detector is the catalog's single writer (it journals what it enqueues and folds it).
    archive.grantCatalogUpkeep(detector.fn, { xmpSidecars: config.xmpSidecars });
    archive.grantAlbumViews(detector.fn);

    const workers = new DownloadWorkers(this, 'DownloadWorkers', {
      source: source(HANDLER_ENTRIES.downloadAssets),
      config,
      logRetention,
    });
    const mirror = config.deletePolicy === 'mirror';
    archive.grantArchiveWrites(workers.fn, { deletes: mirror });
    state.grantReadWrite(
      workers.fn,
      [
        DELETABLE_STATE_ITEMS.transferLease,
        DELETABLE_STATE_ITEMS.masterUser,
        // Claims, not photos: a Shared Album pass releases keys it no longer needs under `keep`
        // too (each DeleteItem conditional on the claim's owner, `releaseKey`).
        DELETABLE_STATE_ITEMS.keyClaim,
        // The worker records each album it archived in the Shared Albums list too.
        DELETABLE_STATE_ITEMS.sharedAlbumsPart,
        ...(mirror ? [DELETABLE_STATE_ITEMS.countedObject, DELETABLE_STATE_ITEMS.objectKey] : []),
      ],
      { batchWritten: WORKER_BATCH_WRITTEN_ITEMS },
    );
    session.grantRefresh(workers.fn);
    session.restrictTo([detector.fn, workers.fn], config.sessionAdminArns);
    // Paused long videos go on in a new message, with fresh receives (functions/domain/archive).
    work.grantContinue(workers.fn);
    work.feed(workers.fn, {
      batchSize: DOWNLOAD_BATCH_SIZE,
      maxBatchingWindow: DOWNLOAD_BATCHING_WINDOW,
      maxConcurrency: config.downloadConcurrency,
    });

    const alarms = new PipelineAlarms(this, 'Alarms', {
      stackName: config.stackName,
      alarmEmail: config.alarmEmail,
      scheduleMinutes: config.scheduleMinutes,
      noSyncAlarmHours: config.noSyncAlarmHours,
      queueAgeAlarmHours: config.queueAgeAlarmHours,
      detector: detector.fn,
      workQueue: work.queue,
      deadLetterQueue: work.deadLetterQueue,
    });
    const dashboard = new PipelineDashboard(this, 'Dashboard', {
      dashboardName: config.stackName,
      title: config.stackName,
      detector: detector.fn,
      worker: workers.fn,
      workQueue: work.queue,
      deadLetterQueue: work.deadLetterQueue,
      alarms: alarms.all(),
    });
    const readerPolicy = archive.createReaderPolicy('RcloneReader');
    this.archive = archive;
    this.state = state;
    this.session = session;
    this.work = work;
    this.detector = detector;
    this.workers = workers;
    this.alarms = alarms;
    this.dashboard = dashboard;

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the code, its dependencies and its tests run on Node 20/22; moving to a newer runtime is a deliberate, tested change.',
    });

    this.outputs({
      config,
      archive,
      state,
      work,
      session,
      detector,
      workers,
      alarms,
      dashboard,
      readerPolicy,
    });
  }

  private outputs(parts: {
    config: InfraConfig;
    archive: ArchiveBucket;
    state: StateTable;
    work: WorkQueue;
    session: SessionSecret;
    detector: ChangeDetector;
    workers: DownloadWorkers;
    alarms: PipelineAlarms;
    dashboard: PipelineDashboard;
    readerPolicy: { managedPolicyArn: string };
  }): void {
    const { config, archive } = parts;
    const bucket = archive.bucket.bucketName;
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });

    output('ArchiveBucketName', bucket, 'S3 bucket holding the archive');
    output('StateTableName', parts.state.table.tableName, 'DynamoDB table with sync state');
    output('WorkQueueUrl', parts.work.queue.queueUrl, 'SQS queue of pending downloads');
    output(
      'DeadLetterQueueUrl',
      parts.work.deadLetterQueue.queueUrl,
      'SQS dead-letter queue of failed downloads',
    );
    output(
      'SessionSecretName',
      parts.session.secret.secretName,
      'Secrets Manager secret holding the iCloud session',
    );
    output('SessionSecretArn', parts.session.secret.secretArn, 'ARN of the session secret');
    // CloudFormation names the log groups (`<stack>-<id>-<random>`), not `/aws/lambda/<function>`:
    // `aws logs tail` reads their names here (docs/deploy.md, "Confirm the first sync").
    output(
      'DetectorLogGroupName',
      parts.detector.fn.logGroup.logGroupName,
      'Log group of the change detector',
    );
    output('WorkerLogGroupName', parts.workers.fn.logGroup.logGroupName, 'Log group of the download workers');
    output('AlarmTopicArn', parts.alarms.topic.topicArn, 'SNS topic the alarms publish to');
    output(
      'DashboardUrl',
      Fn.join('', [
        'https://',
        Aws.REGION,
        '.console.aws.amazon.com/cloudwatch/home?region=',
        Aws.REGION,
        '#dashboards:name=',
        parts.dashboard.dashboard.dashboardName,
      ]),
      'CloudWatch dashboard of the pipeline',
    );
    output(
      'RcloneReaderPolicyArn',
      parts.readerPolicy.managedPolicyArn,
      'Attach to the IAM user or role rclone uses',
    );
    output(
      'LoginCommand',
      `npx icloud-s3 login --aws --stack ${config.stackName} --remember-password`,
      'Sign in to iCloud and store the session',
    );
    output(
      'RcloneRemoteCommand',
      Fn.join('', [
        'rclone config create ics3 s3 provider=AWS env_auth=true region=',
        Aws.REGION,
        config.kmsEncryption ? ' server_side_encryption=aws:kms' : '',
      ]),
      'Creates the rclone remote for the archive (credentials from the environment or ~/.aws)',
    );
    output(
      'RcloneCopyCommand',
      Fn.join('', [
        'rclone copy ics3:',
        bucket,
        ' /path/to/nas/icloud-photos --fast-list --checksum --progress',
      ]),
      'Mirrors the archive to a NAS folder (see docs/deploy.md for sync vs copy)',
    );
  }
}
