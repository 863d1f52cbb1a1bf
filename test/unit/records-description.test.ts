/**
 * Title, caption, keywords, location and duration read from a CPLAsset (docs/protocol/records.md#cplasset):
 * the binary plists CloudKit sends (the simulator's writer and hand-made arrays), the recorded
 * empty keyword list, and fields that are absent or broken, which are left out, never fatal.
 */
import { describe, expect, it } from 'vitest';
import {
  readAssetDescription,
  readKeywords,
  readLocation,
} from '#adapters/icloud/records/asset-description.ts';
import { readBinaryPlist } from '#adapters/icloud/records/bplist.ts';
import { bplistDict } from '#simulator/src/cloudkit/bplist.ts';

const enc = (bytes: Buffer | string) => ({
  value: Buffer.from(bytes).toString('base64'),
  type: 'ENCRYPTED_BYTES',
});

/** A `bplist00` array of ASCII strings (one-byte offsets and references). */
function bplistStrings(values: readonly string[]): Buffer {
  const objects: Buffer[] = [Buffer.from([0xa0 | values.length, ...values.map((_, i) => i + 1)])];
  for (const v of values)
    objects.push(Buffer.concat([Buffer.from([0x50 | v.length]), Buffer.from(v, 'ascii')]));
  const header = Buffer.from('bplist00', 'ascii');
  const offsets: number[] = [];
  let at = header.length;
  for (const o of objects) {
    offsets.push(at);
    at += o.length;
  }
  const trailer = Buffer.alloc(32);
  trailer[6] = 1;
  trailer[7] = 1;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(0n, 16);
  trailer.writeBigUInt64BE(BigInt(at), 24);
  return Buffer.concat([header, ...objects, Buffer.from(offsets), trailer]);
}

describe('reading what a person wrote about a photo', () => {
  it('reads the location plist the way CloudKit sends it (lat, lon, alt)', () => {
    const fields = { locationEnc: enc(bplistDict({ lat: 18.7883, lon: 98.9853, alt: 310.5, speed: 0 })) };

    expect(readLocation(fields)).toEqual({ latitude: 18.7883, longitude: 98.9853, altitude: 310.5 });
  });

  it('accepts lng for the longitude, and falls back to locationLatitude/locationLongitude', () => {
    expect(readLocation({ locationEnc: enc(bplistDict({ lat: 1.5, lng: 2.5 })) })).toEqual({
      latitude: 1.5,
      longitude: 2.5,
    });
    expect(
      readLocation({
        locationLatitude: { value: -33.9, type: 'DOUBLE' },
        locationLongitude: { value: 151.2, type: 'DOUBLE' },
      }),
    ).toEqual({ latitude: -33.9, longitude: 151.2 });
  });

  it('reads keywords from a plist array, and the recorded empty array as none', () => {
    // Recorded on a video in icloudpd/listing_videos: `bplist00` + an empty array.
    const recordedEmpty = {
      value: 'YnBsaXN0MDCgCAAAAAAAAAEBAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAJ',
      type: 'ENCRYPTED_BYTES',
    };

    expect(readKeywords({ keywordsEnc: recordedEmpty })).toBeUndefined();
    expect(readKeywords({ keywordsEnc: enc(bplistStrings(['beach', 'pier'])) })).toEqual(['beach', 'pier']);
  });

  it('reads title and caption as UTF-8 text, duration in milliseconds, and the original size', () => {
    const description = readAssetDescription(
      {
        captionEnc: enc('Sonnenuntergang über dem Meer'),
        extendedDescEnc: enc('Zweite Zeile'),
        duration: { value: 40530, type: 'INT64' },
        timeZoneNameEnc: enc('Asia/Bangkok'),
      },
      { width: 4032, height: 3024 },
    );

    expect(description).toEqual({
      title: 'Sonnenuntergang über dem Meer',
      caption: 'Zweite Zeile',
      durationMs: 40530,
      timeZoneName: 'Asia/Bangkok',
      width: 4032,
      height: 3024,
    });
  });

  it('leaves out what does not decode, and a photo without any of it has no description', () => {
    const broken = {
      captionEnc: { value: 'not base64!', type: 'ENCRYPTED_BYTES' },
      keywordsEnc: enc('not a plist'),
      locationEnc: enc(Buffer.from('bplist00')),
      duration: { value: 0, type: 'INT64' },
    };

    expect(readAssetDescription(broken)).toBeUndefined();
    expect(readBinaryPlist(Buffer.from('bplist00 truncated'))).toBeUndefined();
  });
});
