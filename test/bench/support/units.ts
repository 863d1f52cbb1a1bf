/** Byte units and number formatting shared by the benchmark sections. */
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / MIB) * 10) / 10;

/** Decimal megabytes per second (what disks and networks are quoted in). */
export const mbPerSecond = (bytes: number, ms: number): number =>
  ms <= 0 ? 0 : Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;

export const seconds = (ms: number): number => Math.round(ms / 100) / 10;
