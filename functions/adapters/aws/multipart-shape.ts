/**
 * The parts of one streamed multipart upload: their size, and how many are in flight at once.
 *
 * S3's limits ("Amazon S3 multipart upload limits",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): at most 10,000 parts, each
 * 5 MiB to 5 GiB (the last may be smaller), an object at most 48.8 TiB (10,000 x 5 GiB,
 * `MAX_OBJECT_BYTES`). The store gives lib-storage an explicit `partSize`, so lib-storage does not
 * size parts from the body itself: at the configured 8 MiB, a body over 10,000 x 8 MiB (78.1 GiB)
 * would fail with "Exceeded 10000 parts" only after all 10,000 parts were sent. A put whose
 * length needs more parts gets the smallest whole number of MiB that fits it in 10,000.
 *
 * Memory: lib-storage holds each part in flight, the part it is gathering and a copy of it, about
 * `(queueSize + 2) x partSize` per upload (measured: infra/download-workers.ts,
 * `MEASURED_WORKER_MEMORY_MIB`, 55 MiB at 8 MiB x 4). A larger part gets a shorter queue so that
 * figure stays within the configured shape's (48 MiB at 8 MiB x 4) while the queue can shrink: up
 * to 16 MiB parts (bodies up to 156.25 GiB at the defaults). Beyond, one part in flight still
 * holds about 3 x `partSize` (51 MiB at 17 MiB, 96 MiB at 32 MiB): lib-storage must hold a part
 * whole to send it.
 */

const MIB = 1024 * 1024;

/** Minimum part size S3 accepts for every part but the last. */
export const MIN_PART_SIZE = 5 * MIB;
/** Largest part S3 accepts. */
export const MAX_PART_SIZE = 5 * 1024 * MIB;
/** Most parts one multipart upload may have. */
export const MAX_PARTS = 10_000;
/** Parts lib-storage holds beside those in flight: the one being gathered and its copy. */
const PARTS_HELD_BESIDE_QUEUE = 2;

export interface MultipartShape {
  /** Bytes per part (the last may be smaller). */
  readonly partSize: number;
  /** Parts in flight at once. */
  readonly queueSize: number;
}

/**
 * The shape of a put of `contentLength` bytes: `configured` when 10,000 of its parts hold the
 * body; otherwise parts of the smallest whole number of MiB that do (at most S3's 5 GiB: a longer
 * body is refused before this, `MAX_OBJECT_BYTES`), with the queue shortened so the memory the
 * upload holds stays within the configured shape's, down to one part in flight.
 */
export function multipartShape(contentLength: number, configured: MultipartShape): MultipartShape {
  if (contentLength <= configured.partSize * MAX_PARTS) return configured;
  const partSize = Math.min(MAX_PART_SIZE, Math.ceil(contentLength / MAX_PARTS / MIB) * MIB);
  const budget = (configured.queueSize + PARTS_HELD_BESIDE_QUEUE) * configured.partSize;
  const fits = Math.floor(budget / partSize) - PARTS_HELD_BESIDE_QUEUE;
  return { partSize, queueSize: Math.max(1, Math.min(configured.queueSize, fits)) };
}
