/**
 * The few metrics the pipeline emits (names in `METRICS`, shared with the alarms). In Lambda they
 * go out as EMF through Powertools (the entry's `logMetrics` middleware publishes them at the end
 * of each invocation); on one machine they are collected for the run summary.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '#shared/env-names.ts';

export type MetricName = (typeof METRICS)[Exclude<keyof typeof METRICS, 'namespace'>];

export interface PipelineMetrics {
  add(name: MetricName, value: number, unit?: 'Count' | 'Bytes'): void;
}

/** EMF metrics for Lambda: low-cardinality names, no dimensions beyond the service. */
export class PowertoolsMetrics implements PipelineMetrics {
  /** The Powertools instance, for the entry's `logMetrics` middleware (which publishes). */
  readonly emf: Metrics;
  constructor(serviceName: string) {
    this.emf = new Metrics({ namespace: METRICS.namespace, serviceName });
  }
  add(name: MetricName, value: number, unit: 'Count' | 'Bytes' = 'Count'): void {
    this.emf.addMetric(name, unit === 'Bytes' ? MetricUnit.Bytes : MetricUnit.Count, value);
  }
}

/** Collects metrics in memory (the local runtime's summary, tests). */
export class CollectedMetrics implements PipelineMetrics {
  readonly values = new Map<MetricName, number>();
  add(name: MetricName, value: number): void {
    this.values.set(name, (this.values.get(name) ?? 0) + value);
  }
}
