/**
 * The ranges a multipart copy splits an object into keep to S3's limits (qfacts.html): at most
 * 10,000 parts, each 5 MiB to 5 GiB but the last, contiguous, covering every byte once.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PART_SIZE as MAX_PART_BYTES } from '#adapters/aws/multipart-shape.ts';
import { copyRanges } from '#adapters/aws/s3-multipart-copy.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function expectContiguous(ranges: ReadonlyArray<readonly [number, number]>, size: number) {
  expect(ranges[0]?.[0]).toBe(0);
  expect(ranges.at(-1)?.[1]).toBe(size - 1);
  for (let at = 1; at < ranges.length; at++) expect(ranges[at]![0]).toBe(ranges[at - 1]![1] + 1);
}

describe('copyRanges', () => {
  it('cuts a 10 GiB video into 512 MiB ranges', () => {
    const size = 10 * GIB + 123;
    const ranges = copyRanges(size, 512 * MIB);
    expect(ranges).toHaveLength(21);
    expect(ranges[0]).toEqual([0, 512 * MIB - 1]);
    expectContiguous(ranges, size);
  });

  it('grows the ranges so an object never needs more than 10,000 parts', () => {
    const size = 5 * 1024 * GIB;
    const ranges = copyRanges(size, 512 * MIB);
    expect(ranges.length).toBeLessThanOrEqual(10_000);
    expect(Math.max(...ranges.map(([first, last]) => last - first + 1))).toBeLessThanOrEqual(MAX_PART_BYTES);
    expectContiguous(ranges, size);
  });

  it('never cuts parts under 5 MiB or over 5 GiB, whatever it is asked', () => {
    expect(copyRanges(12 * MIB, MIB)[0]).toEqual([0, 5 * MIB - 1]);
    expect(copyRanges(12 * GIB, 8 * GIB)[0]).toEqual([0, MAX_PART_BYTES - 1]);
  });
});
