/**
 * CloudWatch alarms of a synthesized template, evaluated over metrics a test publishes: which
 * notifications (alarm and OK actions) a stretch of time sends. The semantics modelled, from the
 * CloudWatch user guide:
 *
 * - A metric alarm aggregates each period (aligned to the epoch) with its statistic, and is
 *   evaluated every minute, over the periods up to the one in progress. Of its evaluation range
 *   (here `EvaluationPeriods + rangeExtra` periods) it judges the most recent `EvaluationPeriods`
 *   real datapoints when there are that many ("the value you set for how to treat missing data is
 *   ignored"); with fewer, missing ones are filled per `TreatMissingData` (breaching or
 *   notBreaching), or, under `ignore`, the alarm keeps its state (`missing` is not used by the
 *   stack and throws). ALARM when `DatapointsToAlarm` of
 *   them breach, OK otherwise. `MAX([a, b, ...])` expressions: a datapoint where any input has one.
 * - A composite alarm is ALARM when its rule (`ALARM(x)`, `OK(x)`, `NOT`, `AND`, `OR`, `TRUE`,
 *   `FALSE`, parentheses) holds over the metric alarms' states of that minute, OK otherwise.
 * - An alarm's actions run on each change of state, unless suppressed: a composite alarm with an
 *   `ActionsSuppressor` runs none while the suppressor is in ALARM, none within
 *   `ActionsSuppressorExtensionPeriod` after the suppressor left ALARM, and, for a change while the
 *   suppressor is not in ALARM, none for `ActionsSuppressorWaitPeriod` (if the suppressor goes to
 *   ALARM meanwhile, the change stays suppressed). When a wait or an extension ends, it "performs
 *   its actions": those of its current state, if that is not the state it last notified.
 *
 * Every alarm starts in INSUFFICIENT_DATA; a test lets the model settle before it counts.
 */

type Props = Record<string, unknown>;
type Resources = Record<string, { Type: string; Properties: Props }>;
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface Notification {
  readonly at: number;
  /** The alarm's logical id in the template. */
  readonly alarm: string;
  readonly state: AlarmState;
}

const MINUTE = 60_000;

/** A token in the template (`Ref`, `Fn::GetAtt`), as the string the test publishes dimensions under. */
export function tokenText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Props;
  if (v['Ref'] !== undefined) return `ref:${String(v['Ref'])}`;
  const att = v['Fn::GetAtt'] as [string, string] | undefined;
  if (att !== undefined) return att[1] === 'Arn' ? `arn:${att[0]}` : `${att[0]}.${att[1]}`;
  const join = v['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map(tokenText).join(join[0]);
  throw new Error(`template value ${JSON.stringify(value)}: teach the model`);
}

const metricKey = (namespace: string, name: string, dimensions: Readonly<Record<string, string>>) =>
  `${namespace}/${name} ${JSON.stringify(Object.entries(dimensions).sort())}`;

interface MetricQuery {
  readonly key: string;
  readonly stat: string;
  readonly periodMs: number;
}

interface MetricAlarm {
  readonly id: string;
  readonly queries: readonly MetricQuery[];
  readonly periodMs: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly missing: 'breaching' | 'notBreaching' | 'ignore';
}

type Rule = (states: ReadonlyMap<string, AlarmState>) => boolean;

interface CompositeAlarm {
  readonly id: string;
  readonly rule: Rule;
  readonly suppressor?: string;
  readonly waitMs: number;
  readonly extensionMs: number;
}

interface Actions {
  readonly alarm: boolean;
  readonly ok: boolean;
}

/** A CloudWatch statistic over one period's datapoints. */
export function statistic(name: string, values: readonly number[]): number {
  switch (name) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      throw new Error(`statistic ${name}: teach the model`);
  }
}

/** Whether a value breaches an alarm's threshold under its comparison operator. */
export function breaches(comparison: string, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
    default:
      throw new Error(`comparison ${comparison}: teach the model`);
  }
}

/** Parses a composite alarm rule whose alarms are named by `arn:<logicalId>` (see `tokenText`). */
export function parseAlarmRule(text: string): Rule {
  const tokens = text.match(/\(|\)|"[^"]*"|[A-Za-z_]+/g) ?? [];
  let at = 0;
  const peek = () => tokens[at]?.toUpperCase();
  const take = (want?: string) => {
    const token = tokens[at++];
    if (token === undefined || (want !== undefined && token.toUpperCase() !== want))
      throw new Error(`alarm rule "${text}": expected ${want ?? 'more'} at token ${at}`);
    return token;
  };
  const primary = (): Rule => {
    const token = take().toUpperCase();
    if (token === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (token === 'NOT') {
      const inner = primary();
      return (s) => !inner(s);
    }
    if (token === 'TRUE') return () => true;
    if (token === 'FALSE') return () => false;
    if (token === 'ALARM' || token === 'OK' || token === 'INSUFFICIENT_DATA') {
      take('(');
      const name = take().replace(/^"|"$/g, '').replace(/^arn:/, '');
      take(')');
      return (s) => (s.get(name) ?? 'INSUFFICIENT_DATA') === token;
    }
    throw new Error(`alarm rule "${text}": unexpected ${token}`);
  };
  const and = (): Rule => {
    let left = primary();
    while (peek() === 'AND') {
      take();
      const l = left;
      const r = primary();
      left = (s) => l(s) && r(s);
    }
    return left;
  };
  const or = (): Rule => {
    let left = and();
    while (peek() === 'OR') {
      take();
      const l = left;
      const r = and();
      left = (s) => l(s) || r(s);
    }
    return left;
  };
  const rule = or();
  if (at !== tokens.length) throw new Error(`alarm rule "${text}": trailing tokens`);
  return rule;
}

export class CloudWatchAlarms {
  readonly notifications: Notification[] = [];
  private readonly points = new Map<string, { at: number; value: number }[]>();
  private readonly metricAlarms: MetricAlarm[] = [];
  private readonly composites: CompositeAlarm[] = [];
  private readonly actions = new Map<string, Actions>();
  private readonly states = new Map<string, AlarmState>();
  /** Per composite: the state whose actions last ran, and until when its actions are held back. */
  private readonly notified = new Map<string, AlarmState>();
  private readonly heldUntil = new Map<string, number>();
  private readonly leftAlarmAt = new Map<string, number>();

  constructor(
    resources: Resources,
    private readonly options: { readonly rangeExtra: number } = { rangeExtra: 2 },
  ) {
    for (const [id, r] of Object.entries(resources)) {
      const p = r.Properties;
      const actionsOf = (): Actions => ({
        alarm: ((p['AlarmActions'] as unknown[] | undefined) ?? []).length > 0,
        ok: ((p['OKActions'] as unknown[] | undefined) ?? []).length > 0,
      });
      if (r.Type === 'AWS::CloudWatch::Alarm') {
        this.metricAlarms.push(this.metricAlarmOf(id, p));
        this.actions.set(id, actionsOf());
      } else if (r.Type === 'AWS::CloudWatch::CompositeAlarm') {
        const suppressor = p['ActionsSuppressor'];
        this.composites.push({
          id,
          rule: parseAlarmRule(tokenText(p['AlarmRule'])),
          ...(suppressor === undefined ? {} : { suppressor: tokenText(suppressor).replace(/^arn:/, '') }),
          waitMs: ((p['ActionsSuppressorWaitPeriod'] as number | undefined) ?? 0) * 1000,
          extensionMs: ((p['ActionsSuppressorExtensionPeriod'] as number | undefined) ?? 0) * 1000,
        });
        this.actions.set(id, actionsOf());
      }
    }
  }

  private metricAlarmOf(id: string, p: Props): MetricAlarm {
    const dims = (d: unknown) =>
      Object.fromEntries(
        ((d as { Name: string; Value: unknown }[] | undefined) ?? []).map((x) => [
          x.Name,
          tokenText(x.Value),
        ]),
      );
    const common = {
      id,
      evaluationPeriods: p['EvaluationPeriods'] as number,
      datapointsToAlarm: (p['DatapointsToAlarm'] as number | undefined) ?? (p['EvaluationPeriods'] as number),
      threshold: p['Threshold'] as number,
      comparison: p['ComparisonOperator'] as string,
      missing: p['TreatMissingData'] as MetricAlarm['missing'],
    };
    if (!['breaching', 'notBreaching', 'ignore'].includes(common.missing))
      throw new Error(`alarm ${id}: TreatMissingData ${String(common.missing)}: teach the model`);
    if (p['MetricName'] !== undefined) {
      const periodMs = (p['Period'] as number) * 1000;
      const key = metricKey(p['Namespace'] as string, p['MetricName'] as string, dims(p['Dimensions']));
      return { ...common, periodMs, queries: [{ key, stat: p['Statistic'] as string, periodMs }] };
    }
    const metrics = p['Metrics'] as {
      Expression?: string;
      Period?: number;
      MetricStat?: { Metric: Props; Stat: string; Period: number };
    }[];
    const expression = metrics.find((m) => m.Expression !== undefined);
    if (expression === undefined || !/^MAX\(\[[\w\s,]+\]\)$/.test(expression.Expression ?? ''))
      throw new Error(`alarm ${id}: only MAX([...]) expressions are modelled`);
    const queries = metrics
      .filter((m) => m.MetricStat !== undefined)
      .map((m) => ({
        key: metricKey(
          m.MetricStat!.Metric['Namespace'] as string,
          m.MetricStat!.Metric['MetricName'] as string,
          dims(m.MetricStat!.Metric['Dimensions']),
        ),
        stat: m.MetricStat!.Stat,
        periodMs: m.MetricStat!.Period * 1000,
      }));
    return { ...common, periodMs: (expression.Period ?? queries[0]!.periodMs / 1000) * 1000, queries };
  }

  /** A datapoint, as a function's EMF or an AWS service publishes it. */
  put(
    namespace: string,
    name: string,
    dimensions: Readonly<Record<string, string>>,
    value: number,
    at: number,
  ) {
    const key = metricKey(namespace, name, dimensions);
    this.points.set(key, [...(this.points.get(key) ?? []), { at, value }]);
  }

  /** Whether some alarm watches this metric: a test publishing under a wrong name learns it. */
  watches(namespace: string, name: string, dimensions: Readonly<Record<string, string>>): boolean {
    const key = metricKey(namespace, name, dimensions);
    return this.metricAlarms.some((a) => a.queries.some((q) => q.key === key));
  }

  state(id: string): AlarmState {
    return this.states.get(id) ?? 'INSUFFICIENT_DATA';
  }

  /** The alarm's datapoint for the period starting at `start`, or undefined when it has none. */
  private datapoint(alarm: MetricAlarm, start: number, now: number): number | undefined {
    const values = alarm.queries.flatMap((q) => {
      const inPeriod = (this.points.get(q.key) ?? [])
        .filter((p) => p.at >= start && p.at < start + alarm.periodMs && p.at <= now)
        .map((p) => p.value);
      return inPeriod.length === 0 ? [] : [statistic(q.stat, inPeriod)];
    });
    return values.length === 0 ? undefined : Math.max(...values);
  }

  private evaluateMetricAlarm(alarm: MetricAlarm, now: number): AlarmState {
    const current = Math.floor(now / alarm.periodMs) * alarm.periodMs;
    const range = alarm.evaluationPeriods + this.options.rangeExtra;
    const slots: (number | undefined)[] = [];
    for (let i = range - 1; i >= 0; i--) slots.push(this.datapoint(alarm, current - i * alarm.periodMs, now));
    const real = slots.filter((v): v is number => v !== undefined);
    let judged: boolean[];
    if (real.length >= alarm.evaluationPeriods) {
      judged = real
        .slice(-alarm.evaluationPeriods)
        .map((v) => breaches(alarm.comparison, v, alarm.threshold));
    } else if (alarm.missing === 'ignore') {
      // "The current alarm state is maintained."
      return this.state(alarm.id);
    } else {
      // Every real datapoint counts; missing ones make up the rest, per TreatMissingData.
      judged = [
        ...real.map((v) => breaches(alarm.comparison, v, alarm.threshold)),
        ...Array.from({ length: alarm.evaluationPeriods - real.length }, () => alarm.missing === 'breaching'),
      ];
    }
    return judged.filter(Boolean).length >= alarm.datapointsToAlarm ? 'ALARM' : 'OK';
  }

  private notify(id: string, state: AlarmState, at: number) {
    const actions = this.actions.get(id);
    if (state === 'ALARM' && actions?.alarm) this.notifications.push({ at, alarm: id, state });
    if (state === 'OK' && actions?.ok) this.notifications.push({ at, alarm: id, state });
  }

  /** One minute of CloudWatch: every alarm evaluated at `now`, its actions run or held back. */
  evaluate(now: number) {
    for (const alarm of this.metricAlarms) {
      const before = this.state(alarm.id);
      const after = this.evaluateMetricAlarm(alarm, now);
      if (after === before) continue;
      this.states.set(alarm.id, after);
      if (before === 'ALARM') this.leftAlarmAt.set(alarm.id, now);
      this.notify(alarm.id, after, now);
    }
    for (const composite of this.composites) {
      const before = this.state(composite.id);
      const after: AlarmState = composite.rule(this.states) ? 'ALARM' : 'OK';
      if (after !== before) this.states.set(composite.id, after);
      if (composite.suppressor === undefined) {
        if (after !== before) this.notify(composite.id, after, now);
        continue;
      }
      const suppressed = this.state(composite.suppressor) === 'ALARM';
      const extendedUntil =
        (this.leftAlarmAt.get(composite.suppressor) ?? Number.NEGATIVE_INFINITY) + composite.extensionMs;
      if (suppressed) {
        this.heldUntil.delete(composite.id);
        continue;
      }
      if (now < extendedUntil) {
        this.heldUntil.set(composite.id, extendedUntil);
        continue;
      }
      if (after !== before && !this.heldUntil.has(composite.id) && composite.waitMs > 0) {
        this.heldUntil.set(composite.id, now + composite.waitMs);
        continue;
      }
      const held = this.heldUntil.get(composite.id);
      if (held !== undefined && now < held) continue;
      this.heldUntil.delete(composite.id);
      const last = this.notified.get(composite.id) ?? 'INSUFFICIENT_DATA';
      if (after !== last) {
        this.notified.set(composite.id, after);
        this.notify(composite.id, after, now);
      }
    }
  }

  /** Every minute from `from` (inclusive) to `to` (exclusive). */
  evaluateBetween(from: number, to: number) {
    for (let t = Math.ceil(from / MINUTE) * MINUTE; t < to; t += MINUTE) this.evaluate(t);
  }
}
