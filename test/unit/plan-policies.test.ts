import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#domain/errors.ts';
import {
  type DeletePolicy,
  deletionLimit,
  MassDeletionRefusedError,
  parseDeletePolicy,
} from '#domain/plan/delete-policy.ts';
import {
  DEFAULT_VERSION_POLICY,
  formatVersionPolicy,
  parseVersionPolicy,
} from '#domain/plan/version-policy.ts';

const MIRROR: DeletePolicy = { mode: 'mirror', maxDeleteFraction: 0.05, maxDeleteCount: 1000 };

describe('parseVersionPolicy', () => {
  it('uses the defaults when unset or blank', () => {
    expect(parseVersionPolicy(undefined)).toEqual(DEFAULT_VERSION_POLICY);
    expect(parseVersionPolicy('  ')).toEqual(DEFAULT_VERSION_POLICY);
  });

  it('archives originals, live videos, RAW pairs and edits by default, no previews or screenshot renders', () => {
    expect(formatVersionPolicy(DEFAULT_VERSION_POLICY)).toBe('original,live,alternative,adjusted');
  });

  it('adds opt-in versions to the defaults', () => {
    expect(parseVersionPolicy('default,medium,thumb')).toMatchObject({
      medium: true,
      thumb: true,
      adjusted: true,
    });
  });

  it('removes a version with a minus', () => {
    expect(parseVersionPolicy('default,-adjusted')).toMatchObject({ adjusted: false, live: true });
  });

  it('reads an explicit list as exactly those versions', () => {
    expect(formatVersionPolicy(parseVersionPolicy('original,live'))).toBe('original,live');
  });

  it('reads its own canonical form back', () => {
    const policy = parseVersionPolicy('default,screenshot-render,-alternative');
    expect(parseVersionPolicy(formatVersionPolicy(policy))).toEqual(policy);
  });

  it('rejects an unknown word naming the valid ones', () => {
    expect(() => parseVersionPolicy('default,edited')).toThrow(InvalidInputError);
    expect(() => parseVersionPolicy('default,edited')).toThrow(
      /unknown word "edited".*Valid words: default, original, live/,
    );
  });

  it('rejects an empty word', () => {
    expect(() => parseVersionPolicy('default,,live')).toThrow(/unknown word ""/);
  });

  it('refuses to drop the original', () => {
    expect(() => parseVersionPolicy('default,-original')).toThrow(/original is always archived/);
  });
});

describe('deletionLimit (the mirror safety stop)', () => {
  it('allows exactly the allowed share of the archive', () => {
    expect(deletionLimit(MIRROR, 1000)).toBe(50);
  });

  it('rounds the share down: 5 % of 39 objects allows one', () => {
    expect(deletionLimit(MIRROR, 39)).toBe(1);
  });

  it('never allows more than the absolute cap, however large the archive', () => {
    expect(deletionLimit({ ...MIRROR, maxDeleteCount: 100 }, 1_000_000)).toBe(100);
  });

  it('reports what it refused, and that nothing was deleted', () => {
    const error = new MassDeletionRefusedError(60, 1000, 50, 'photos purged in iCloud in one run');
    expect(error).toMatchObject({
      name: 'MassDeletionRefusedError',
      wouldDelete: 60,
      archiveObjects: 1000,
      limit: 50,
    });
    expect(error.message).toMatch(/nothing was deleted/);
  });
});

describe('parseDeletePolicy', () => {
  it('defaults to keep with a 5 % share and 1000 objects', () => {
    expect(parseDeletePolicy({})).toEqual({ mode: 'keep', maxDeleteFraction: 0.05, maxDeleteCount: 1000 });
  });

  it('reads mirror and the limits', () => {
    expect(parseDeletePolicy({ mode: 'mirror', maxDeleteFraction: '0.1', maxDeleteCount: '20' })).toEqual({
      mode: 'mirror',
      maxDeleteFraction: 0.1,
      maxDeleteCount: 20,
    });
  });

  it('rejects an unknown mode naming the valid ones', () => {
    expect(() => parseDeletePolicy({ mode: 'sync' })).toThrow(/Valid values: keep, mirror/);
  });

  it('rejects a share outside 0..1', () => {
    expect(() => parseDeletePolicy({ maxDeleteFraction: '5' })).toThrow(/outside 0..1/);
  });

  it('rejects a fractional count', () => {
    expect(() => parseDeletePolicy({ maxDeleteCount: '2.5' })).toThrow(/MAX_DELETE_COUNT/);
  });
});
