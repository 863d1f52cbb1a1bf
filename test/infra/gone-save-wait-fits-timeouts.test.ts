/**
 * Finding 91's wait rests on two timeouts the stack sets: a gone item waits for the detector's
 * list save for `GONE_SAVE_WAIT_MS` from its issue, which must outlast the detector's Lambda (or a
 * save still in flight is taken for lost), and be shorter than the work queue's visibility timeout
 * (so at most one delivery falls within it and the item never reaches the dead-letter queue).
 */
import { describe, expect, it } from 'vitest';
import { GONE_SAVE_WAIT_MS } from '#domain/shared-albums/archive-shared-album.ts';
import { DETECTOR_TIMEOUT } from '../../infra/change-detector.ts';
import { DOWNLOAD_TIMEOUT } from '../../infra/download-workers.ts';

describe("a Shared Album gone item's wait for the list save", () => {
  it("outlasts the detector's timeout and ends before the work's redelivery", () => {
    expect(GONE_SAVE_WAIT_MS).toBeGreaterThan(DETECTOR_TIMEOUT.toMilliseconds());
    // The queue's visibility timeout is 6 x the workers' timeout (infra/work-queue.ts).
    expect(GONE_SAVE_WAIT_MS).toBeLessThan(6 * DOWNLOAD_TIMEOUT.toMilliseconds());
  });
});
