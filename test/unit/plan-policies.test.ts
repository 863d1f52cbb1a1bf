import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#domain/errors.ts';
import type { ArchivedObject } from '#domain/plan/change-input.ts';
import {
  DEFAULT_DELETE_POLICY,
  type DeletePolicy,
  decideDeletions,
  MassDeletionRefusedError,
  parseDeletePolicy,
} from '#domain/plan/delete-policy.ts';
import {
  DEFAULT_VERSION_POLICY,
  formatVersionPolicy,
  parseVersionPolicy,
} from '#domain/plan/version-policy.ts';

function objects(count: number): ArchivedObject[] {
  return Array.from({ length: count }, (_, i) => ({
    objectId: `m${i}/original/c${i}`,
    key: `library/2024/2024-07-14/IMG_${i}.HEIC`,
    kind: 'original' as const,
    size: 1,
  }));
}

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

describe('decideDeletions', () => {
  it('keeps everything under keep, whatever was released', () => {
    const released = objects(500);
    expect(decideDeletions(DEFAULT_DELETE_POLICY, released, 1000)).toEqual({
      deleteKeys: [],
      kept: released,
    });
  });

  it('deletes released objects under mirror', () => {
    const decision = decideDeletions(MIRROR, objects(2), 100);
    expect(decision.deleteKeys).toEqual([
      'library/2024/2024-07-14/IMG_0.HEIC',
      'library/2024/2024-07-14/IMG_1.HEIC',
    ]);
  });

  it('allows exactly the allowed share', () => {
    expect(decideDeletions(MIRROR, objects(50), 1000).deleteKeys).toHaveLength(50);
  });

  it('refuses one object over the allowed share and deletes nothing', () => {
    expect(() => decideDeletions(MIRROR, objects(51), 1000)).toThrow(MassDeletionRefusedError);
  });

  it('allows exactly the absolute cap', () => {
    const policy = { ...MIRROR, maxDeleteCount: 100 };
    expect(decideDeletions(policy, objects(100), 1_000_000).deleteKeys).toHaveLength(100);
  });

  it('refuses one object over the absolute cap even in a huge archive', () => {
    const policy = { ...MIRROR, maxDeleteCount: 100 };
    const refuse = () => decideDeletions(policy, objects(101), 1_000_000);
    expect(refuse).toThrow(MassDeletionRefusedError);
    expect(refuse).toThrow(/over the absolute cap/);
  });

  it('reports what it refused', () => {
    try {
      decideDeletions(MIRROR, objects(60), 1000);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        name: 'MassDeletionRefusedError',
        wouldDelete: 60,
        archiveObjects: 1000,
        limit: 50,
      });
    }
  });

  it('counts an object released twice once', () => {
    const [one] = objects(1);
    expect(decideDeletions(MIRROR, [one!, one!], 20).deleteKeys).toHaveLength(1);
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
