/**
 * The Exif tags every generated photo carries: the camera, the image size, and the capture time in
 * the photo's own time zone (`DateTimeOriginal` + `OffsetTimeOriginal`), as an iPhone writes them.
 */
import { createHash } from 'node:crypto';
import type { MediaSpec } from '../types.ts';
import { localCaptureTime } from './capture-time.ts';
import { ascii, long, rational, short, type Tag, undef } from './tiff.ts';

export interface Camera {
  readonly make: string;
  readonly model: string;
  readonly software: string;
}

const IPHONES = [
  'iPhone 12',
  'iPhone 13 Pro',
  'iPhone 14',
  'iPhone 15 Pro Max',
  'iPhone SE (2nd generation)',
];

/** An iPhone model picked deterministically from the seed. */
export function iphoneFor(seed: string): Camera {
  const pick = createHash('sha256').update(seed).digest().readUInt8(0) % IPHONES.length;
  return { make: 'Apple', model: IPHONES[pick]!, software: '17.5.1' };
}

/** Pixel dimensions of the spec, or the given defaults. */
export function dimensions(spec: MediaSpec, fallback: readonly [number, number]): [number, number] {
  return [spec.width ?? fallback[0], spec.height ?? fallback[1]];
}

export const TAG = {
  imageWidth: 0x0100,
  imageLength: 0x0101,
  bitsPerSample: 0x0102,
  compression: 0x0103,
  photometric: 0x0106,
  make: 0x010f,
  model: 0x0110,
  stripOffsets: 0x0111,
  orientation: 0x0112,
  samplesPerPixel: 0x0115,
  rowsPerStrip: 0x0116,
  stripByteCounts: 0x0117,
  xResolution: 0x011a,
  yResolution: 0x011b,
  resolutionUnit: 0x0128,
  software: 0x0131,
  dateTime: 0x0132,
  newSubfileType: 0x00fe,
  exifVersion: 0x9000,
  dateTimeOriginal: 0x9003,
  dateTimeDigitized: 0x9004,
  offsetTime: 0x9010,
  offsetTimeOriginal: 0x9011,
  offsetTimeDigitized: 0x9012,
  subSecTimeOriginal: 0x9291,
  colorSpace: 0xa001,
  pixelXDimension: 0xa002,
  pixelYDimension: 0xa003,
  dngVersion: 0xc612,
  dngBackwardVersion: 0xc613,
  uniqueCameraModel: 0xc614,
} as const;

/** IFD0 camera/resolution tags and the Exif sub-IFD with the capture time and pixel size. */
export function cameraExif(
  spec: MediaSpec,
  camera: Camera,
  width: number,
  height: number,
): { ifd0: Tag[]; exif: Tag[] } {
  const t = localCaptureTime(spec.captureTime, spec.timeZoneOffsetSeconds);
  return {
    ifd0: [
      ascii(TAG.make, camera.make),
      ascii(TAG.model, camera.model),
      short(TAG.orientation, 1),
      rational(TAG.xResolution, 72, 1),
      rational(TAG.yResolution, 72, 1),
      short(TAG.resolutionUnit, 2),
      ascii(TAG.software, camera.software),
      ascii(TAG.dateTime, t.exif),
    ],
    exif: [
      undef(TAG.exifVersion, Buffer.from('0232', 'latin1')),
      ascii(TAG.dateTimeOriginal, t.exif),
      ascii(TAG.dateTimeDigitized, t.exif),
      ascii(TAG.offsetTime, t.exifOffset),
      ascii(TAG.offsetTimeOriginal, t.exifOffset),
      ascii(TAG.offsetTimeDigitized, t.exifOffset),
      ascii(TAG.subSecTimeOriginal, t.subSeconds),
      short(TAG.colorSpace, 1),
      long(TAG.pixelXDimension, width),
      long(TAG.pixelYDimension, height),
    ],
  };
}
