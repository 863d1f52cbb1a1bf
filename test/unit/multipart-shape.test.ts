/**
 * The shape of a multipart upload as a table: parts that fit S3's 10,000, in whole MiB, and a queue
 * short enough that what lib-storage holds, about (queueSize + 2) x partSize, stays within the
 * configured shape's while the queue can shrink.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PART_SIZE, MAX_PARTS, multipartShape } from '#adapters/aws/multipart-shape.ts';
import { MAX_OBJECT_BYTES } from '#ports/object-store.ts';
import { PIPELINE_DEFAULTS } from '#shared/config.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DEFAULTS = {
  partSize: PIPELINE_DEFAULTS.uploadPartSizeMiB * MIB,
  queueSize: PIPELINE_DEFAULTS.uploadQueueSize,
};
const held = (shape: { partSize: number; queueSize: number }) => (shape.queueSize + 2) * shape.partSize;

describe('multipartShape at the defaults (8 MiB x 4)', () => {
  it.each([
    ['a 4 GB video', 4e9, 8, 4],
    ['exactly 10,000 parts of 8 MiB', 10_000 * 8 * MIB, 8, 4],
    ['one byte more', 10_000 * 8 * MIB + 1, 9, 3],
    ['100 GiB', 100 * GIB, 11, 2],
    ['156.25 GiB (16 MiB parts)', 10_000 * 16 * MIB, 16, 1],
    ['1 TiB', 1024 * GIB, 105, 1],
    ["S3's largest object", MAX_OBJECT_BYTES, 5 * 1024, 1],
  ])('%s: %i MiB parts, %i in flight', (_name, bytes, partMiB, queueSize) => {
    const shape = multipartShape(bytes, DEFAULTS);
    expect(shape).toEqual({ partSize: partMiB * MIB, queueSize });
    expect(Math.ceil(bytes / shape.partSize)).toBeLessThanOrEqual(MAX_PARTS);
    expect(shape.partSize).toBeLessThanOrEqual(MAX_PART_SIZE);
  });

  it('holds no more than the configured shape (48 MiB) for every body up to 16 MiB parts', () => {
    for (let bytes = 10_000 * 8 * MIB; bytes <= 10_000 * 16 * MIB; bytes += 997 * MIB) {
      expect(held(multipartShape(bytes, DEFAULTS))).toBeLessThanOrEqual(held(DEFAULTS));
    }
  });
});
