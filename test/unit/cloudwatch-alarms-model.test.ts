/**
 * The CloudWatch alarm model the alarm tests run templates on (test/fakes/cloudwatch-alarms.ts),
 * held to the behaviour its header cites from the CloudWatch user guide.
 */
import { describe, expect, it } from 'vitest';
import { CloudWatchAlarms, parseAlarmRule } from '#test/fakes/cloudwatch-alarms.ts';

const MINUTE = 60_000;
const topic = [{ Ref: 'Topic' }];

const metricAlarm = (name: string, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    Namespace: 'Test',
    MetricName: name,
    Dimensions: [{ Name: 'service', Value: 'svc' }],
    Statistic: 'Maximum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    ...extra,
  },
});

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** `Raw` (no actions), `Suppressor` and `Notice` (ALARM(Raw), suppressed by `Suppressor`) notify. */
function suppressed() {
  return new CloudWatchAlarms({
    Raw: metricAlarm('raw'),
    Suppressor: metricAlarm('suppressor', { AlarmActions: topic, OKActions: topic }),
    Notice: {
      Type: 'AWS::CloudWatch::CompositeAlarm',
      Properties: {
        AlarmRule: { 'Fn::Join': ['', ['ALARM("', arn('Raw'), '")']] },
        ActionsSuppressor: arn('Suppressor'),
        ActionsSuppressorWaitPeriod: 600,
        ActionsSuppressorExtensionPeriod: 1800,
        AlarmActions: topic,
        OKActions: topic,
      },
    },
  });
}

/** Publishes `value` of `name` every minute of [from, to) minutes and evaluates each minute. */
function run(cw: CloudWatchAlarms, from: number, to: number, values: Record<string, number | undefined>) {
  for (let m = from; m < to; m++) {
    for (const [name, value] of Object.entries(values))
      if (value !== undefined) cw.put('Test', name, { service: 'svc' }, value, m * MINUTE);
    cw.evaluate(m * MINUTE);
  }
}

const told = (cw: CloudWatchAlarms) => cw.notifications.map((n) => `${n.at / MINUTE} ${n.alarm} ${n.state}`);

describe('the CloudWatch alarm model', () => {
  it('parses composite rules with NOT, AND, OR and parentheses', () => {
    const rule = parseAlarmRule('ALARM("arn:A") AND NOT (OK("arn:B") OR FALSE)');
    expect(
      rule(
        new Map([
          ['A', 'ALARM'],
          ['B', 'ALARM'],
        ]),
      ),
    ).toBe(true);
    expect(
      rule(
        new Map([
          ['A', 'ALARM'],
          ['B', 'OK'],
        ]),
      ),
    ).toBe(false);
    expect(rule(new Map([['B', 'ALARM']]))).toBe(false);
  });

  it('judges the most recent real datapoints of the evaluation range before filling missing ones', () => {
    const cw = new CloudWatchAlarms({ A: metricAlarm('a', { AlarmActions: topic, OKActions: topic }) });
    run(cw, 0, 5, { a: 1 });
    // Silent for two periods: the last real datapoint (breaching) is still in the range of three.
    run(cw, 5, 15, {});
    expect(cw.state('A')).toBe('ALARM');
    // A third silent period leaves no real datapoint: missing counts as not breaching.
    run(cw, 15, 20, {});
    expect(told(cw)).toEqual(['0 A ALARM', '15 A OK']);
  });

  it('fills missing datapoints as breaching, needing M of N, and keeps its state under ignore', () => {
    const cw = new CloudWatchAlarms({
      Silence: metricAlarm('s', {
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      }),
      Kept: metricAlarm('k', { Period: 60, TreatMissingData: 'ignore' }),
    });
    run(cw, 0, 3, { s: 1, k: 5 });
    expect([cw.state('Silence'), cw.state('Kept')]).toEqual(['OK', 'ALARM']);
    run(cw, 3, 10, {});
    expect([cw.state('Silence'), cw.state('Kept')]).toEqual(['ALARM', 'ALARM']);
  });

  it('suppresses a composite while its suppressor is in ALARM, and sends no OK for a suppressed round trip', () => {
    const cw = suppressed();
    run(cw, 0, 30, { raw: 0, suppressor: 0 });
    const settled = cw.notifications.length;
    run(cw, 30, 60, { raw: 0, suppressor: 1 });
    run(cw, 60, 120, { raw: 1, suppressor: 1 });
    run(cw, 120, 150, { raw: 0, suppressor: 1 });
    run(cw, 150, 300, { raw: 0, suppressor: 0 });
    expect(told(cw).slice(settled)).toEqual(['30 Suppressor ALARM', '150 Suppressor OK']);
    expect(cw.notifications.slice(settled).every((n) => n.alarm === 'Suppressor')).toBe(true);
  });

  it('waits the wait period for the suppressor, then performs the actions of the state it is in', () => {
    const cw = suppressed();
    run(cw, 0, 30, { raw: 0, suppressor: 0 });
    const settled = cw.notifications.length;
    // The suppressor follows within the wait period: nothing from the composite.
    run(cw, 30, 35, { raw: 1, suppressor: 0 });
    run(cw, 35, 60, { raw: 1, suppressor: 1 });
    expect(told(cw).slice(settled)).toEqual(['35 Suppressor ALARM']);
    // Alone: told when the wait ends.
    const alone = suppressed();
    run(alone, 0, 30, { raw: 0, suppressor: 0 });
    const before = alone.notifications.length;
    run(alone, 30, 60, { raw: 1, suppressor: 0 });
    expect(told(alone).slice(before)).toEqual(['40 Notice ALARM']);
  });

  it('holds the actions for the extension period after the suppressor left ALARM, then tells what still holds', () => {
    const cw = suppressed();
    run(cw, 0, 30, { raw: 0, suppressor: 0 });
    const settled = cw.notifications.length;
    run(cw, 30, 60, { raw: 1, suppressor: 1 });
    run(cw, 60, 120, { raw: 1, suppressor: 0 });
    // The suppressor is OK at 60; the composite, in ALARM since 30, tells it when the 30 minutes end.
    expect(told(cw).slice(settled)).toEqual(['30 Suppressor ALARM', '60 Suppressor OK', '90 Notice ALARM']);
  });
});
