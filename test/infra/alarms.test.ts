import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS, SERVICE_NAMES } from '#shared/env-names.ts';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

let synth: Synthesised;
beforeAll(() => {
  synth = synthesise();
});

type Props = Record<string, unknown>;
const propsOf = (construct: Parameters<typeof logicalIdOf>[1]): Props => {
  const all = synth.template.toJSON().Resources as Record<string, { Properties: Props }>;
  const found = all[logicalIdOf(synth.stack, construct)];
  if (!found) throw new Error('resource not found');
  return found.Properties;
};
const topicRef = () => ({ Ref: logicalIdOf(synth.stack, synth.stack.alarms.topic) });
const detectorService = [{ Name: 'service', Value: SERVICE_NAMES.detectChanges }];

describe('alarm topic', () => {
  it('is encrypted with a rotated customer key that CloudWatch may use', () => {
    const keyId = logicalIdOf(synth.stack, synth.stack.alarms.topic.masterKey!);
    expect(propsOf(synth.stack.alarms.topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    synth.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
  });

  it('refuses publishers that do not use TLS', () => {
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef()],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has no subscription unless an alarm email is set', () => {
    synth.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('alarms', () => {
  it('each notify the topic when they fire and when they recover', () => {
    for (const alarm of synth.stack.alarms.notifying()) {
      expect(propsOf(alarm)).toMatchObject({ AlarmActions: [topicRef()], OKActions: [topicRef()] });
    }
    synth.template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    synth.template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 3);
  });

  it('that a latched sign-in also trips notify through a composite that ReauthRequired suppresses', () => {
    const alarms = synth.stack.alarms;
    const reauthArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, alarms.reauthRequired), 'Arn'] };
    for (const [raw, notice] of [
      [alarms.deadLetters, alarms.deadLettersNotice],
      [alarms.queueBacklog, alarms.queueBacklogNotice],
      [alarms.noRecentSync, alarms.noRecentSyncNotice],
    ] as const) {
      const props = propsOf(raw);
      expect(props['AlarmActions'], raw.node.id).toBeUndefined();
      expect(props['OKActions'], raw.node.id).toBeUndefined();
      expect(propsOf(notice)).toMatchObject({
        AlarmRule: {
          'Fn::Join': ['', ['ALARM("', { 'Fn::GetAtt': [logicalIdOf(synth.stack, raw), 'Arn'] }, '")']],
        },
        ActionsSuppressor: reauthArn,
        // Ten minutes for ReauthRequired to reach ALARM; a 15-minute schedule and half an hour
        // for the first run after the login to redrive and sync.
        ActionsSuppressorWaitPeriod: 600,
        ActionsSuppressorExtensionPeriod: 45 * 60,
      });
      expect(String(propsOf(notice)['AlarmDescription'])).toContain(raw.node.id);
    }
  });

  it('fires when a mirror run refused a mass deletion', () => {
    expect(propsOf(synth.stack.alarms.deletionRefused)).toMatchObject({
      Namespace: 'IcloudS3',
      MetricName: 'deletionRefused',
      Dimensions: [{ Name: 'service', Value: 'detect-changes' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when the detector gave up dead-lettered work after its last redrive', () => {
    expect(propsOf(synth.stack.alarms.workGivenUp)).toMatchObject({
      Namespace: 'IcloudS3',
      MetricName: METRICS.workGivenUp,
      Dimensions: detectorService,
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires on any message in the dead-letter queue', () => {
    expect(propsOf(synth.stack.alarms.deadLetters)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.deadLetterQueue), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('fires when the oldest queued download is older than 12 hours', () => {
    expect(propsOf(synth.stack.alarms.queueBacklog)).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.work.queue), 'QueueName'] },
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 12 * 3600,
    });
  });

  it('fires when the change detector fails two scheduled runs in a row', () => {
    expect(propsOf(synth.stack.alarms.detectorErrors)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalIdOf(synth.stack, synth.stack.detector.fn.function) } },
      ],
      Statistic: 'Sum',
      Period: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
  });

  it('fires as soon as either function reports that Apple wants a new sign-in', () => {
    const props = propsOf(synth.stack.alarms.reauthRequired);
    expect(props).toMatchObject({
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
    const queries = props.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: Props; Stat: string };
    }[];
    expect(queries.find((q) => q.Expression)?.Expression).toBe('MAX([detector, worker, pending])');
    const watched = queries
      .filter((q) => q.MetricStat)
      .map((q) => [q.MetricStat!.Metric, q.MetricStat!.Stat]);
    const watch = (service: string, metric: string) => [
      {
        Namespace: METRICS.namespace,
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: service }],
      },
      'Maximum',
    ];
    expect(watched).toEqual([
      watch(SERVICE_NAMES.detectChanges, METRICS.reauthRequired),
      watch(SERVICE_NAMES.downloadAssets, METRICS.reauthRequired),
      // The latched runs that follow (reauthRequired is emitted once) hold the alarm in ALARM.
      watch(SERVICE_NAMES.detectChanges, METRICS.signInPending),
    ]);
    expect(props.AlarmDescription).toContain('npx icloud-s3 login --aws --stack IcloudS3');
    // iCloud not serving the photo library raises it too, and there a sign-in does not help.
    expect(props.AlarmDescription).toContain('ZONE_NOT_FOUND');
  });

  it('fires when no sync succeeded for 12 hours, counting silence as failure', () => {
    expect(propsOf(synth.stack.alarms.noRecentSync)).toMatchObject({
      Namespace: METRICS.namespace,
      MetricName: METRICS.syncSucceeded,
      Dimensions: detectorService,
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 12,
      DatapointsToAlarm: 12,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('fires when the trust expires within 7 days', () => {
    expect(propsOf(synth.stack.alarms.trustExpiring)).toMatchObject({
      Namespace: METRICS.namespace,
      MetricName: METRICS.trustExpiresInDays,
      Dimensions: detectorService,
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 7,
      // Latched runs do not report the trust: no OK until a run does.
      TreatMissingData: 'ignore',
    });
  });
});

describe('dashboard', () => {
  const body = () =>
    JSON.stringify(
      synth.template.toJSON().Resources[logicalIdOf(synth.stack, synth.stack.dashboard.dashboard)],
    );

  it('shows every pipeline metric the handlers emit', () => {
    for (const metric of Object.entries(METRICS)
      .filter(([key]) => key !== 'namespace')
      .map(([, name]) => name)) {
      expect(body()).toContain(`\\"${metric}\\"`);
    }
  });

  it('shows queue depth, dead letters, and function errors, throttles and durations', () => {
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'Errors',
      'Throttles',
      'Duration',
    ]) {
      expect(body()).toContain(`\\"${metric}\\"`);
    }
  });

  it('shows the state of every alarm', () => {
    for (const alarm of synth.stack.alarms.all()) {
      expect(body()).toContain(logicalIdOf(synth.stack, alarm));
    }
  });
});

describe('stack outputs', () => {
  it('give the user every name and the exact commands to sign in and mirror', () => {
    const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ArchiveBucketName',
      'DashboardUrl',
      'DeadLetterQueueUrl',
      'DetectorLogGroupName',
      'LoginCommand',
      'RcloneCopyCommand',
      'RcloneReaderPolicyArn',
      'RcloneRemoteCommand',
      'SessionSecretArn',
      'SessionSecretName',
      'StateTableName',
      'WorkQueueUrl',
      'WorkerLogGroupName',
    ]);
    expect(outputs.LoginCommand!.Value).toBe(
      'npx icloud-s3 login --aws --stack IcloudS3 --remember-password',
    );
    expect(JSON.stringify(outputs.RcloneCopyCommand!.Value)).toContain('rclone copy ics3:');
    expect(JSON.stringify(outputs.RcloneRemoteCommand!.Value)).not.toContain('aws:kms');
  });
});

describe('the docs count the alarms the stack has', () => {
  const alarms = () =>
    Object.values(
      synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Props }>,
    ).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  /** CloudWatch bills each metric an alarm reads (an expression's metrics each count). */
  const alarmMetrics = () =>
    alarms().reduce((sum, alarm) => {
      const metrics = alarm.Properties['Metrics'] as { MetricStat?: unknown }[] | undefined;
      return sum + (metrics === undefined ? 1 : metrics.filter((m) => m.MetricStat !== undefined).length);
    }, 0);
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

  it('docs/deploy.md and docs/cost.md say how many alarms, and cost.md bills each alarm metric', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = (name: string) => readFile(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
    const n = alarms().length;
    const deploy = await doc('deploy.md');
    const cost = await doc('cost.md');
    expect(deploy).toMatch(new RegExp(`\\b${words[n]} CloudWatch\\s+alarms`, 'i'));
    const m = alarmMetrics();
    expect(cost).toContain(`| CloudWatch alarms | ${n} alarms on ${m} metrics`);
    expect(cost).toContain(`x $0.10 | $${(m * 0.1).toFixed(2)} |`);
    const composites = Object.values(
      synth.template.toJSON().Resources as Record<string, { Type: string }>,
    ).filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm').length;
    expect(cost).toContain(`${n} alarms, ${composites} composite alarms, 1 dashboard`);
    expect(cost).toContain(`| CloudWatch composite alarms | ${composites} composite alarms`);
    expect(cost).toContain(`x $0.50; not in the free allowance | $${(composites * 0.5).toFixed(2)} |`);
  });

  it("docs/deploy.md's table says what each alarm means, and the README lists as many", async () => {
    const { readFile } = await import('node:fs/promises');
    const deploy = await readFile(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const table = deploy.split('## 8. What each alarm means')[1]?.split(/^## /m)[0] ?? '';
    const rows = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1] as string);
    const resources = synth.template.toJSON().Resources as Record<string, { Type: string }>;
    const logicalIds = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id);
    expect(rows).toHaveLength(alarms().length);
    for (const row of rows)
      expect(
        logicalIds.some((id) => id.includes(row)),
        row,
      ).toBe(true);
    const listed = /alarms to an SNS topic \(([^)]*)\)/.exec(readme.replace(/\s+/g, ' '))?.[1] ?? '';
    expect(listed.split(/, /)).toHaveLength(alarms().length);
  });
});
