/**
 * What a progress bar needs to advance with bytes rather than with finished messages (a 434 MB
 * video is one item): the bytes the run's CDN downloads have streamed so far, counted as they
 * pass, and the bytes the enqueued work may download (the sizes iCloud reported for the versions
 * the version policy selects; an upper bound, since already archived versions are skipped).
 */
import { pipeline, Transform } from 'node:stream';
import type { WorkItem } from '#domain/model/work.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import type { VersionPolicy } from '#domain/plan/version-policy.ts';
import type { MediaDownloader } from '#ports/media-download.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

/** `inner`, with every body counted chunk by chunk as the consumer reads it. */
export function meteredDownloader(inner: MediaDownloader, onBytes: (bytes: number) => void): MediaDownloader {
  return {
    async open(url, options) {
      const download = await inner.open(url, options);
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      });
      // pipeline: an error or an abort on either side destroys both, as the unwrapped body would.
      pipeline(download.body, counted, () => {});
      return { ...download, body: counted };
    },
    ...(inner.expiresAt === undefined ? {} : { expiresAt: (url: string) => inner.expiresAt?.(url) }),
  };
}

/** The bytes one work item may download under `policy`. */
export function expectedBytes(item: WorkItem, policy: VersionPolicy): number {
  const versions =
    item.type === 'asset'
      ? planVersions(item.asset, policy).map((planned) => planned.version)
      : item.type === 'assetOnly'
        ? item.change.versions
        : [];
  return versions.reduce((sum, version) => sum + version.size, 0);
}

/** `inner`, reporting the bytes each stored batch of work may download. */
export function meteredQueue(
  inner: WorkQueue,
  policy: VersionPolicy,
  onExpected: (bytes: number) => void,
): WorkQueue {
  return {
    async enqueue(messages) {
      const receipt = await inner.enqueue(messages);
      onExpected(
        messages.reduce(
          (sum, message) => sum + message.items.reduce((s, item) => s + expectedBytes(item, policy), 0),
          0,
        ),
      );
      return receipt;
    },
  };
}
