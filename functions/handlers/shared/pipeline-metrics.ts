/**
 * The few metrics the pipeline emits (names in `METRICS`, shared with the alarms). In Lambda they
 * go out as EMF through Powertools; on one machine they are collected for the run summary.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '#shared/env-names.ts';

export type MetricName = (typeof METRICS)[Exclude<keyof typeof METRICS, 'namespace'>];

export interface PipelineMetrics {
  add(name: MetricName, value: number, unit?: 'Count' | 'Bytes'): void;
  /** Sends what was added (end of an invocation). */
  publish(): void;
}

/** EMF metrics for Lambda: low-cardinality names, no dimensions beyond the service. */
export function powertoolsMetrics(serviceName: string): PipelineMetrics {
  const metrics = new Metrics({ namespace: METRICS.namespace, serviceName });
  return {
    add: (name, value, unit = 'Count') =>
      metrics.addMetric(name, unit === 'Bytes' ? MetricUnit.Bytes : MetricUnit.Count, value),
    publish: () => metrics.publishStoredMetrics(),
  };
}

/** Collects metrics in memory (the local runtime's summary, tests). */
export class CollectedMetrics implements PipelineMetrics {
  readonly values = new Map<MetricName, number>();
  add(name: MetricName, value: number): void {
    this.values.set(name, (this.values.get(name) ?? 0) + value);
  }
  publish(): void {}
}
