/**
 * What the archive bucket's lifecycle rules do to one object version, evaluated from the
 * synthesised template the way S3 applies them: a rule applies when every filter it has matches
 * (its tags all present, `ObjectSizeGreaterThan` / `ObjectSizeLessThan` strict bounds on the
 * version's size), and where several expire the same version the earliest wins (S3 user guide,
 * "Lifecycle configuration elements" and "How Amazon S3 handles conflicts in lifecycle actions").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGING_TAG, stagingTagFor } from '../../functions/shared/env-names.ts';
import { logicalIdOf, type Synthesised, synthesise } from './synth.ts';

interface Rule {
  readonly Id: string;
  readonly Status: string;
  readonly Prefix?: string;
  readonly TagFilters?: readonly { readonly Key: string; readonly Value: string }[];
  readonly ObjectSizeGreaterThan?: number | string;
  readonly ObjectSizeLessThan?: number | string;
  readonly NoncurrentVersionExpiration?: { readonly NoncurrentDays: number };
}

interface NoncurrentVersion {
  readonly key: string;
  readonly size: number;
  readonly tags: Readonly<Record<string, string>>;
}

const GIB = 1024 ** 3;

let rules: readonly Rule[];
beforeAll(() => {
  const synth: Synthesised = synthesise();
  const resources = synth.template.toJSON().Resources as Record<
    string,
    { Properties: { LifecycleConfiguration: { Rules: Rule[] } } }
  >;
  const bucket = resources[logicalIdOf(synth.stack, synth.stack.archive.bucket)];
  if (!bucket) throw new Error('no archive bucket');
  rules = bucket.Properties.LifecycleConfiguration.Rules;
});

function applies(rule: Rule, version: NoncurrentVersion): boolean {
  if (rule.Status !== 'Enabled') return false;
  if (rule.Prefix !== undefined && !version.key.startsWith(rule.Prefix)) return false;
  if (rule.TagFilters?.some((tag) => version.tags[tag.Key] !== tag.Value)) return false;
  if (rule.ObjectSizeGreaterThan !== undefined && !(version.size > Number(rule.ObjectSizeGreaterThan)))
    return false;
  if (rule.ObjectSizeLessThan !== undefined && !(version.size < Number(rule.ObjectSizeLessThan)))
    return false;
  return true;
}

/** Days a version stays once it is noncurrent (deleted or overwritten), and the rule that ends it. */
function noncurrentLife(version: NoncurrentVersion): { days: number; rule: string } | undefined {
  let earliest: { days: number; rule: string } | undefined;
  for (const rule of rules) {
    const days = rule.NoncurrentVersionExpiration?.NoncurrentDays;
    if (days === undefined || !applies(rule, version)) continue;
    if (earliest === undefined || days < earliest.days) earliest = { days, rule: rule.Id };
  }
  return earliest;
}

const staged = { [STAGING_TAG.key]: STAGING_TAG.value };

describe('archive bucket lifecycle, per noncurrent version', () => {
  it('keeps a deleted or overwritten photo for the undo window (90 days by default)', () => {
    expect(noncurrentLife({ key: 'library/2026/IMG_0001.HEIC', size: 3e6, tags: {} })).toEqual({
      days: 90,
      rule: 'expire-noncurrent-versions',
    });
  });

  it('lets the superseded staged first version of a video go after a day, up to the 5 GiB a copy rewrites', () => {
    for (const size of [8 * 1024 ** 2, 5 * GIB])
      expect(noncurrentLife({ key: 'library/2026/IMG_0002.MOV', size, tags: staged })).toEqual({
        days: 1,
        rule: 'expire-superseded-staging-versions',
      });
  });

  it('lets every staged first version the workers upload go a day after its copy supersedes it, at any size', () => {
    // Up to 5 GiB the copy is one CopyObject, over it a multipart copy: either way the upload's
    // own version is a byte-for-byte duplicate once the copy is current.
    for (const size of [8 * 1024 ** 2, 5 * GIB, 5 * GIB + 1, 6 * GIB, 100 * GIB]) {
      const tag = stagingTagFor(size);
      expect(
        noncurrentLife({ key: 'library/2026/IMG_0004.MOV', size, tags: { [tag.key]: tag.value } }),
      ).toMatchObject({ days: 1 });
    }
  });

  it('keeps a video over 5 GiB that still carries the staging tag for the undo window, not one day', () => {
    // Earlier versions archived objects over CopyObject's 5 GiB limit without the metadata copy,
    // so their current version kept the staging tag: once deleted (a mistaken `rclone sync` or
    // `aws s3 rm`, a `mirror` delete) it would have been gone a day later, the one kind of file
    // the undo window did not cover.
    expect(noncurrentLife({ key: 'library/2026/IMG_0003.MOV', size: 6 * GIB, tags: staged })).toEqual({
      days: 90,
      rule: 'expire-noncurrent-versions',
    });
  });
});
