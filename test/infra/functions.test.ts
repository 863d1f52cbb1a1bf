import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_ITEMS } from '#app/download-batch.ts';
import { ENV, METRICS, SERVICE_NAMES } from '#shared/env-names.ts';
import { DOWNLOAD_MEMORY_MB, MEASURED_WORKER_MEMORY_MIB } from '../../infra/download-workers.ts';
import { actionsOf, logicalIdOf, type Synthesised, statementsOfRole, synthesise } from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise();
});

type Props = Record<string, unknown>;
const resources = () =>
  synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Props }>;
const propsOf = (construct: Parameters<typeof logicalIdOf>[1]): Props => {
  const found = resources()[logicalIdOf(synth.stack, construct)];
  if (!found) throw new Error('resource not found');
  return found.Properties;
};
const detector = () => synth.stack.detector.fn;
const worker = () => synth.stack.workers.fn;
const envOf = (fn: ReturnType<typeof detector>) =>
  (propsOf(fn.function).Environment as { Variables: Record<string, unknown> }).Variables;
const ref = (construct: Parameters<typeof logicalIdOf>[1]) => ({ Ref: logicalIdOf(synth.stack, construct) });

describe.each([
  ['change detector', detector, SERVICE_NAMES.detectChanges],
  ['download worker', worker, SERVICE_NAMES.downloadAssets],
])('%s defaults', (_name, fn, serviceName) => {
  it('runs on Node.js 22 on arm64 from an ESM bundle', () => {
    expect(propsOf(fn().function)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
  });

  it('sets the Powertools service, namespace and log level, and no --enable-source-maps (decoded offline)', () => {
    expect(envOf(fn())['NODE_OPTIONS']).toBeUndefined();
    expect(envOf(fn())).toMatchObject({
      [ENV.serviceName]: serviceName,
      [ENV.metricsNamespace]: METRICS.namespace,
      [ENV.logLevel]: 'INFO',
    });
  });

  it('logs to its own log group kept for 30 days', () => {
    expect(propsOf(fn().function).LoggingConfig).toEqual({ LogGroup: ref(fn().logGroup) });
    expect(propsOf(fn().logGroup).RetentionInDays).toBe(30);
  });

  it('has a role with no managed policies and may write only to its own log group', () => {
    expect(propsOf(fn().role).ManagedPolicyArns).toBeUndefined();
    const logs = statementsOfRole(synth.template, synth.stack, fn().role).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('logs:')),
    );
    expect(logs).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(synth.stack, fn().logGroup), 'Arn'] },
      },
    ]);
  });

  it('is told the sync settings every function must agree on', () => {
    expect(envOf(fn())).toMatchObject({
      [ENV.icloudEndpoint]: 'apple',
      [ENV.deletePolicy]: 'keep',
      [ENV.maxDeleteFraction]: '0.05',
      [ENV.maxDeleteCount]: '1000',
      [ENV.versionPolicy]: 'default',
      [ENV.liveVideoName]: 'suffix',
      [ENV.sharedAlbums]: 'on',
      [ENV.sharedAlbumsEveryMinutes]: '0',
    });
  });

  it('is told the name of every resource the shared handler config requires', () => {
    expect(envOf(fn())).toMatchObject({
      [ENV.archiveBucket]: ref(synth.stack.archive.bucket),
      [ENV.stateTable]: ref(synth.stack.state.table),
      [ENV.workQueueUrl]: ref(synth.stack.work.queue),
      [ENV.sessionSecretId]: ref(synth.stack.session.secret),
    });
  });
});

describe('change detector', () => {
  it('runs for at most 5 minutes with 512 MB', () => {
    expect(propsOf(detector().function)).toMatchObject({ Timeout: 300, MemorySize: 512 });
  });

  it('never runs twice at once', () => {
    expect(propsOf(detector().function).ReservedConcurrentExecutions).toBe(1);
  });

  it('is not retried by Lambda after a failure, and a tick older than the schedule is dropped', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(detector().function),
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 900,
    });
  });

  it('runs every 15 minutes', () => {
    expect(propsOf(synth.stack.detector.rule)).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [logicalIdOf(synth.stack, detector().function), 'Arn'] },
        }),
      ],
    });
  });

  it('keeps 30 s of its deadline in reserve', () => {
    expect(envOf(detector())[ENV.deadlineReserveMs]).toBe('30000');
  });
});

describe('download workers', () => {
  const mapping = () => {
    const found = Object.values(resources()).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(found).toHaveLength(1);
    return found[0]!.Properties;
  };

  it('runs for up to 15 minutes', () => {
    expect(propsOf(worker().function).Timeout).toBe(900);
  });

  it('is not told of Object Lock when the bucket has none (its parts carry no checksum)', () => {
    expect(envOf(worker())[ENV.archiveObjectLock]).toBeUndefined();
  });

  it('writes in Intelligent-Tiering at once, as the day-0 rule would move it (no transition to pay)', () => {
    expect(envOf(worker())[ENV.archiveStorageClass]).toBe('INTELLIGENT_TIERING');
    // The detector writes album views and the catalog in the same bucket.
    expect(envOf(detector())[ENV.archiveStorageClass]).toBe('INTELLIGENT_TIERING');
  });

  it('has memory for its items in flight all being large videos, at the measured growth per upload', () => {
    const env = envOf(worker());
    const measured = MEASURED_WORKER_MEMORY_MIB;
    // The measured figures hold for the upload shape they were measured at (docs/benchmarks.md §3).
    expect(Number(env[ENV.uploadPartSizeMiB])).toBe(measured.partSizeMiB);
    expect(Number(env[ENV.uploadQueueSize])).toBe(measured.queueSize);
    const memorySize = propsOf(worker().function).MemorySize as number;
    expect(memorySize).toBe(DOWNLOAD_MEMORY_MB);
    // The Lambda passes no batchItems: a batch holds at most DEFAULT_BATCH_ITEMS items at once,
    // whatever its records carry, and the worst are all multipart uploads.
    const worstMiB = measured.beforeFirstByteMiB + DEFAULT_BATCH_ITEMS * measured.perUploadMiB;
    // A quarter left for Lambda's runtime, GC lag and the difference of MB and MiB.
    expect(worstMiB).toBeLessThanOrEqual(0.75 * memorySize);
  });

  it('is fed from the work queue in small batches, reporting failed records individually', () => {
    expect(mapping()).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.queue), 'Arn'] },
      FunctionName: ref(worker().function),
      BatchSize: 4,
      MaximumBatchingWindowInSeconds: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('runs at most 5 at once so Apple is never hammered', () => {
    expect(mapping().ScalingConfig).toEqual({ MaximumConcurrency: 5 });
  });

  it('has no reserved concurrency of its own (the event source caps it)', () => {
    expect(propsOf(worker().function).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('keeps 60 s of its deadline in reserve to abort an unfinished upload', () => {
    expect(envOf(worker())[ENV.deadlineReserveMs]).toBe('60000');
  });
});

describe('least privilege', () => {
  const detectorActions = () => actionsOf(statementsOfRole(synth.template, synth.stack, detector().role));
  const workerActions = () => actionsOf(statementsOfRole(synth.template, synth.stack, worker().role));

  it('grants no wildcard action anywhere', () => {
    const docs = Object.values(resources())
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap(
        (r) => (r.Properties.PolicyDocument as { Statement: Parameters<typeof actionsOf>[0] }).Statement,
      );
    const actions = actionsOf(docs);
    expect(actions.length).toBeGreaterThan(20);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('lets the change detector touch S3 only as the catalog writer and to write album views: read, write and list, delete nothing but folded journal objects and album views', () => {
    expect([...new Set(detectorActions().filter((a) => a.startsWith('s3:')))].sort()).toEqual([
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
  });

  it('lets the change detector enqueue work', () => {
    expect(detectorActions()).toContain('sqs:SendMessage');
  });

  it('lets the change detector redrive the dead-letter queue, and names it: receive, delete, change visibility there, send only to the work queue', () => {
    const dlqArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.deadLetterQueue), 'Arn'] };
    const queueArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.queue), 'Arn'] };
    const sqs = statementsOfRole(synth.template, synth.stack, detector().role).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('sqs:')),
    );
    const on = (arn: unknown) =>
      actionsOf(sqs.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arn)));
    expect(on(dlqArn).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
    expect(on(queueArn)).toContain('sqs:SendMessage');
    expect(on(queueArn)).not.toContain('sqs:ReceiveMessage');
    expect(envOf(detector())[ENV.deadLetterQueueUrl]).toEqual({
      Ref: logicalIdOf(synth.stack, synth.stack.work.deadLetterQueue),
    });
    expect(envOf(worker())[ENV.deadLetterQueueUrl]).toBeUndefined();
  });

  it('lets the download worker consume the queue and send to it alone (a paused long video goes on in a new message)', () => {
    expect(workerActions()).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
    );
    const queueArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.queue), 'Arn'] };
    const sending = statementsOfRole(synth.template, synth.stack, worker().role).filter((s) =>
      actionsOf([s]).includes('sqs:SendMessage'),
    );
    expect(sending).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn }]);
    expect(envOf(worker())[ENV.workQueueUrl]).toEqual({
      Ref: logicalIdOf(synth.stack, synth.stack.work.queue),
    });
  });

  it('lets the download worker read, write, abort and resume uploads in the archive only (no deletes under keep)', () => {
    const s3 = statementsOfRole(synth.template, synth.stack, worker().role).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('s3:')),
    );
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.archive.bucket), 'Arn'] };
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:PutObject',
          's3:PutObjectTagging',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
    ]);
  });

  it('never grants permanent deletion of object versions', () => {
    expect([...detectorActions(), ...workerActions()]).not.toContain('s3:DeleteObjectVersion');
  });

  it('lets the two functions, and nothing else, store a refreshed session', () => {
    const writers = Object.values(resources())
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .filter((r) =>
        actionsOf(
          (r.Properties.PolicyDocument as { Statement: Parameters<typeof actionsOf>[0] }).Statement,
        ).some(
          (a) =>
            a.startsWith('secretsmanager:') &&
            !['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(a),
        ),
      )
      .map((r) => r.Properties.Roles);
    expect(writers).toEqual([[ref(detector().role)], [ref(worker().role)]]);
    for (const actions of [detectorActions(), workerActions()]) {
      expect(actions.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
      ]);
    }
  });

  it('gives both functions item-level access to the state table but no scans or table management', () => {
    for (const actions of [detectorActions(), workerActions()]) {
      expect(actions).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
        ]),
      );
      expect(
        actions.filter((a) => ['dynamodb:Scan', 'dynamodb:DeleteTable', 'dynamodb:UpdateTable'].includes(a)),
      ).toEqual([]);
    }
  });

  it('offers rclone a read-only policy for the archive', () => {
    const reader = Object.values(resources()).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    expect(reader).toHaveLength(1);
    const actions = actionsOf(
      (reader[0]!.Properties.PolicyDocument as { Statement: Parameters<typeof actionsOf>[0] }).Statement,
    );
    expect(actions.sort()).toEqual([
      's3:GetObject',
      's3:GetObjectVersion',
      's3:ListBucket',
      's3:ListBucketVersions',
    ]);
  });
});
