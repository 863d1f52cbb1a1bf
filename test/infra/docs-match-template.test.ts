/**
 * What docs/deploy.md and docs/commands.md tell a person to type or expect, checked against the
 * synthesised stack: a log group the docs name must exist, and a number they quote must be the
 * template's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesise } from './synth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = (name: string) => readFileSync(join(ROOT, 'docs', name), 'utf8');
type Resource = { Type: string; Properties: Record<string, unknown> };
const { template } = synthesise();
const resources = template.toJSON().Resources as Record<string, Resource>;
const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('docs/deploy.md, "Confirm the first sync": the functions\' logs', () => {
  // Each function logs to a group of its own that CloudFormation names (`<stack>-<id>-<random>`),
  // never `/aws/lambda/<function name>`: the docs read its name from a stack output.
  const logGroupOf = (functionIdPrefix: string) => {
    const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(functionIdPrefix));
    return (fn?.[1].Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
  };

  it.each([
    ['DetectorLogGroupName', 'ChangeDetector'],
    ['WorkerLogGroupName', 'DownloadWorkers'],
  ])('the output %s names the group the %s function logs to, and the docs use it', (output, fn) => {
    expect(logGroupOf(fn)).toBeDefined();
    expect(outputs[output]?.Value).toEqual(logGroupOf(fn));
    expect(doc('deploy.md')).toContain(output);
  });

  it('has no command read an /aws/lambda/ group, which does not exist', () => {
    expect(doc('deploy.md')).not.toMatch(/aws logs [^`\n]*\/aws\/lambda\//);
    expect(ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName)).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe('docs/commands.md, verify --repair interrupted during a multipart copy', () => {
  it("says when the bucket's lifecycle rule aborts the unfinished upload as the template does", () => {
    const bucket = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('ArchiveBucket'));
    expect(bucket).toBeDefined();
    const lifecycle = bucket?.[1].Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] };
    const rules = lifecycle.Rules;
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload) as {
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: number };
    };
    const days = abort.AbortIncompleteMultipartUpload.DaysAfterInitiation;
    expect(days).toBe(3);
    const said = /unfinished upload is\s+aborted by the bucket's lifecycle rule ([^.]+)\./.exec(
      doc('commands.md'),
    );
    expect(said?.[1]?.replace(/\s+/g, ' ')).toMatch(new RegExp(`^${days} days after it began\\b`));
  });
});

describe('docs/deploy.md, the DetectorErrors alarm', () => {
  const evaluationPeriods = (resourcesOf: Record<string, Resource>) =>
    Object.entries(resourcesOf).find(
      ([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.includes('DetectorErrors'),
    )?.[1].Properties.EvaluationPeriods;

  it('fires after two failed runs, or after one on a schedule over 720 minutes, as its row says', () => {
    // A daily schedule (the longest) needs a no-sync alarm of at least two runs.
    const daily = synthesise({ scheduleMinutes: 1440, noSyncAlarmHours: 48 }).template.toJSON();
    expect([evaluationPeriods(resources), evaluationPeriods(daily.Resources)]).toEqual([2, 1]);
    const row = doc('deploy.md')
      .split('\n')
      .find((line) => line.startsWith('| `DetectorErrors` |'));
    expect(row).toContain('two scheduled runs in a row');
    expect(row).toMatch(/`scheduleMinutes` over 720[^|]*one/);
  });
});
