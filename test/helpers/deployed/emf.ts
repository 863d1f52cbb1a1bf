/**
 * Reads the CloudWatch Embedded Metric Format documents a Lambda function writes, as CloudWatch
 * Logs extracts metrics from them, per "Specification: Embedded metric format"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * a document is a JSON log line whose `_aws` member has a numeric `Timestamp` and
 * `CloudWatchMetrics`, an array of directives, each with a `Namespace`, `Dimensions` (an array of
 * dimension sets, each an array of dimension names: every set is a metric identity of its own,
 * the values being the root members of those names, strings) and `Metrics` (`Name`, `Unit`);
 * a metric's value is the root member of its name, a number or an array of numbers.
 *
 * Capture: Powertools' Metrics writes each document as one line on stdout through its own
 * `Console` on `process.stdout` (the global `console` when POWERTOOLS_DEV is set); in Lambda every
 * stdout line goes to CloudWatch Logs. `captureEmf` wraps `process.stdout.write` and `console.log`
 * while its callback runs, keeps the lines that are EMF documents, and drops the rest (stderr too).
 */

/** One metric as CloudWatch stores it from an EMF document. */
export interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  /** The dimension set's names and values (one identity per set in the directive). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly number[];
}

/** The metrics of one EMF document, one per (directive, dimension set, metric). */
export function metricsOfEmf(document: unknown): EmittedMetric[] {
  const root = document as Record<string, unknown>;
  const aws = root['_aws'] as { CloudWatchMetrics?: unknown; Timestamp?: unknown } | undefined;
  const directives = aws?.CloudWatchMetrics as
    | { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[]
    | undefined;
  if (!Array.isArray(directives)) return [];
  // REQUIRED by the spec: without it CloudWatch Logs extracts nothing from the document.
  if (typeof aws?.Timestamp !== 'number') throw new Error('EMF document without a numeric _aws.Timestamp');
  const out: EmittedMetric[] = [];
  for (const directive of directives) {
    for (const set of directive.Dimensions) {
      const dimensions: Record<string, string> = {};
      for (const key of set) {
        const value = root[key];
        // The spec: a dimension's root member must be a string, or the document is invalid.
        if (typeof value !== 'string') throw new Error(`EMF dimension ${key} is not a string root member`);
        dimensions[key] = value;
      }
      for (const metric of directive.Metrics) {
        const value = root[metric.Name];
        const values = Array.isArray(value) ? value : [value];
        if (!values.every((v) => typeof v === 'number'))
          throw new Error(`EMF metric ${metric.Name} has no numeric root member`);
        out.push({
          namespace: directive.Namespace,
          name: metric.Name,
          dimensions,
          values: values as number[],
        });
      }
    }
  }
  return out;
}

/** EMF documents written on stdout while `run` runs, as Lambda's log stream would hold them. */
export async function captureEmf<T>(run: () => Promise<T>): Promise<{ result: T; metrics: EmittedMetric[] }> {
  const lines: string[] = [];
  let pending = '';
  const take = (chunk: unknown) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  };
  const write = process.stdout.write;
  const writeError = process.stderr.write;
  const log = console.log;
  // The functions' other output (log lines on stderr too) is dropped: it is not what is checked.
  process.stderr.write = ((...args: unknown[]) => {
    const callback = args.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stderr.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    take(chunk);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  console.log = (...args: unknown[]) => take(`${args.map(String).join(' ')}\n`);
  try {
    const result = await run();
    return { result, metrics: lines.flatMap(emfMetricsOfLine) };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeError;
    console.log = log;
  }
}

function emfMetricsOfLine(line: string): EmittedMetric[] {
  if (!line.trimStart().startsWith('{')) return [];
  try {
    return metricsOfEmf(JSON.parse(line));
  } catch (error) {
    if (error instanceof SyntaxError) return [];
    throw error;
  }
}
