/**
 * A minimal binary property list writer (`bplist00`) for the flat dictionaries CloudKit carries in
 * `locationEnc` (docs/protocol/records.md#location): string keys, number values (written as 64-bit reals).
 */
export function bplistDict(entries: Readonly<Record<string, number>>): Buffer {
  const keys = Object.keys(entries);
  if (keys.length > 14) throw new RangeError('bplistDict supports up to 14 entries');
  const objects: Buffer[] = [];
  const count = keys.length;
  const dict = Buffer.alloc(1 + 2 * count);
  dict[0] = 0xd0 | count;
  for (let i = 0; i < count; i += 1) {
    dict[1 + i] = 1 + i;
    dict[1 + count + i] = 1 + count + i;
  }
  objects.push(dict);
  for (const key of keys) {
    const ascii = Buffer.from(key, 'ascii');
    if (ascii.length > 14) throw new RangeError('bplistDict keys are at most 14 characters');
    objects.push(Buffer.concat([Buffer.from([0x50 | ascii.length]), ascii]));
  }
  for (const key of keys) {
    const real = Buffer.alloc(9);
    real[0] = 0x23;
    real.writeDoubleBE(entries[key]!, 1);
    objects.push(real);
  }
  const header = Buffer.from('bplist00', 'ascii');
  const offsets: number[] = [];
  let at = header.length;
  for (const object of objects) {
    offsets.push(at);
    at += object.length;
  }
  const offsetSize = at > 0xff ? 2 : 1;
  const table = Buffer.alloc(offsets.length * offsetSize);
  offsets.forEach((offset, i) => {
    if (offsetSize === 2) table.writeUInt16BE(offset, i * 2);
    else table[i] = offset;
  });
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = 1;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(at), 24);
  return Buffer.concat([header, ...objects, table, trailer]);
}
