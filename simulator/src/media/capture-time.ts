/** How a capture instant is written into media metadata, in the photo's own time zone. */

export interface LocalCaptureTime {
  /** `YYYY:MM:DD HH:MM:SS` wall-clock time at the capture place (EXIF `DateTimeOriginal`). */
  readonly exif: string;
  /** `+HH:MM` / `-HH:MM` (EXIF `OffsetTimeOriginal`). */
  readonly exifOffset: string;
  /** Milliseconds as three digits (EXIF `SubSecTimeOriginal`). */
  readonly subSeconds: string;
  /** `YYYY-MM-DDTHH:MM:SS+HHMM` (QuickTime `com.apple.quicktime.creationdate`). */
  readonly iso: string;
}

const pad = (v: number, width = 2): string => String(v).padStart(width, '0');

export function localCaptureTime(captureTime: number, timeZoneOffsetSeconds: number): LocalCaptureTime {
  const local = new Date(captureTime + timeZoneOffsetSeconds * 1000);
  const date = [pad(local.getUTCFullYear(), 4), pad(local.getUTCMonth() + 1), pad(local.getUTCDate())];
  const time = [pad(local.getUTCHours()), pad(local.getUTCMinutes()), pad(local.getUTCSeconds())];
  const sign = timeZoneOffsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(timeZoneOffsetSeconds);
  const hh = pad(Math.floor(abs / 3600));
  const mm = pad(Math.floor((abs % 3600) / 60));
  return {
    exif: `${date.join(':')} ${time.join(':')}`,
    exifOffset: `${sign}${hh}:${mm}`,
    subSeconds: pad(local.getUTCMilliseconds(), 3),
    iso: `${date.join('-')}T${time.join(':')}${sign}${hh}${mm}`,
  };
}

/** Seconds between the QuickTime/Mac epoch (1904-01-01 UTC) and the Unix epoch. */
export const MAC_EPOCH_OFFSET_SECONDS = 2_082_844_800;

/** Capture time as QuickTime `creation_time`: whole seconds since 1904-01-01 UTC. */
export const macEpochSeconds = (captureTime: number): number =>
  Math.floor(captureTime / 1000) + MAC_EPOCH_OFFSET_SECONDS;
