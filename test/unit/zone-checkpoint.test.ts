import { describe, expect, it } from 'vitest';
import {
  parseZoneCheckpoint,
  serialiseZoneCheckpoint,
  ZONE_CHECKPOINT_VERSION,
} from '#domain/detect/zone-checkpoint.ts';

describe('zone checkpoint', () => {
  it('writes its version and reads back what it wrote', () => {
    const checkpoint = {
      enumeration: { scope: 'library' as const, cursor: { scope: 'library' as const, startRank: 200 } },
    };
    const stored = serialiseZoneCheckpoint(checkpoint);
    expect(stored).toMatchObject({ v: ZONE_CHECKPOINT_VERSION });
    expect(parseZoneCheckpoint(stored)).toEqual(checkpoint);
  });

  it("round-trips a reconciling enumeration's generation and the reconciliation's place", () => {
    const walking = { enumeration: { scope: 'hidden' as const, capturedToken: 't', generation: 'run-7' } };
    expect(parseZoneCheckpoint(serialiseZoneCheckpoint(walking))).toEqual(walking);
    const reconciling = { reconcile: { generation: 'run-7', capturedToken: 't', cursor: '{"shard":3}' } };
    expect(parseZoneCheckpoint(serialiseZoneCheckpoint(reconciling))).toEqual(reconciling);
    // A reconciliation without the token it must save cannot be resumed: start over.
    expect(parseZoneCheckpoint({ v: 1, reconcile: { generation: 'run-7' } })).toEqual({});
  });

  it('reads a checkpoint written before the version field', () => {
    const legacy = { unpaired: { masters: ['M1'], assets: [] } };
    expect(parseZoneCheckpoint(legacy)).toEqual(legacy);
  });

  it("keeps a walk's overlap (finding 17) and resumes a cursor stored before it had one", () => {
    const cursor = {
      scope: 'library' as const,
      startRank: 195,
      overlap: ['M196', 'M197', 'M198', 'M199', 'M200'],
      retreats: 1,
      recovered: true,
      syncToken: 't',
    };
    const walking = { enumeration: { scope: 'library' as const, cursor } };
    expect(parseZoneCheckpoint(serialiseZoneCheckpoint(walking))).toEqual(walking);
    const before = {
      v: 1,
      enumeration: {
        scope: 'library',
        cursor: { scope: 'library', startRank: 200, continuationMarker: 'MK' },
      },
    };
    expect(parseZoneCheckpoint(before)).toEqual({
      enumeration: {
        scope: 'library',
        cursor: { scope: 'library', startRank: 200, continuationMarker: 'MK' },
      },
    });
  });

  it('starts over from a checkpoint it cannot read instead of guessing', () => {
    expect(parseZoneCheckpoint({ enumeration: { scope: 'library', cursor: { startRank: 'x' } } })).toEqual(
      {},
    );
    expect(parseZoneCheckpoint({ v: 2, unpaired: { masters: [], assets: [] } })).toEqual({});
    expect(parseZoneCheckpoint(['not', 'an', 'object'])).toEqual({});
  });
});
