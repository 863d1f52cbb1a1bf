/**
 * Audit 14 (docs against the template): what docs/deploy.md and docs/commands.md tell a person
 * to type or expect, checked against the synthesised stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesise } from './synth.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const { template } = synthesise();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('docs/deploy.md, "Confirm the first sync"', () => {
  it('the functions log to /aws/lambda/<function>, where `aws logs tail` is told to look', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    expect(doc).toContain('aws logs tail /aws/lambda/<detector function>');
    // Each function logs to a group of its own; CloudFormation names it (no LogGroupName), so it
    // is `<stack>-<logicalId>-<random>`, never `/aws/lambda/<function name>`.
    const routed = ofType('AWS::Lambda::Function').map(
      ([, f]) => (f.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup,
    );
    const named = ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName ?? null);
    expect({ routed: routed.filter(Boolean).length, named }).toEqual({ routed: 0, named: [] });
  });
});

describe('docs/commands.md, verify --repair interrupted during a multipart copy', () => {
  it('the unfinished upload is aborted by the lifecycle rule "after a day"', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'commands.md'), 'utf8');
    expect(doc).toContain("aborted by the bucket's lifecycle rule after a day");
    const bucket = ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('ArchiveBucket'));
    const lifecycle = bucket?.[1].Properties.LifecycleConfiguration as
      | { Rules: Record<string, unknown>[] }
      | undefined;
    const rules = lifecycle?.Rules ?? [];
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload) as {
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: number };
    };
    expect(abort.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBe(1);
  });
});
