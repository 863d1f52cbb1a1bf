/**
 * The transfer of a version too long for one worker invocation (docs/deploy.md, "Very large
 * videos"): a resumable upload whose checkpoint lives on the object's key claim, written under the
 * transfer lease. When the invocation's deadline nears (`deps.pause`) the store stops reading,
 * waits for its parts in flight and the checkpoint is saved at the last part of the unbroken run;
 * the item fails with a retryable `TransferPausedError` and the message's next delivery goes on
 * from that byte: the CDN is asked for the rest (`Range`), the hashes go on from their saved states.
 *
 * A checkpoint of another file at the key (another size or `fileChecksum`), an upload S3 no longer
 * knows, or parts S3 does not bear out start over from byte 0 (the store aborts the old upload):
 * nothing ever completes a mix of two files. A CDN that ignores the range (200, the whole file) is
 * judged as every download from byte 0 is (an error page fails the delivery, not the parts), then
 * read past the stored bytes without hashing them again. A checkpoint saved once every part was
 * stored (the completion under way) downloads nothing: the store only finishes the object.
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LockLease } from '#domain/model/sync-state.ts';
import type { MediaDownload } from '#ports/media-download.ts';
import type { PutResult, PutStreamOptions, ResumableUpload } from '#ports/object-store.ts';
import { ConflictError, TransferPausedError, UnexpectedResponseError } from '../errors.ts';
import type { ArchiveDeps } from './archive-deps.ts';
import { ErrorPageGuard } from './error-page-guard.ts';

/** Drops the first `count` bytes of a body (a CDN that sent the whole file for a range). */
export class SkipBytes extends Transform {
  #left: number;
  constructor(count: number) {
    super();
    this.#left = count;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#left >= chunk.length) {
      this.#left -= chunk.length;
      callback();
      return;
    }
    const rest = chunk.subarray(this.#left);
    this.#left = 0;
    callback(null, rest);
  }
}

/**
 * Stores the version at `key` resumably: from the checkpoint an earlier delivery left, or from
 * byte 0. Resolves with the stored object; rejects with `TransferPausedError` when `deps.pause`
 * stopped it (its parts kept), or with the failure (the parts kept where a checkpoint counts them).
 */
export async function transferResumably(
  deps: ArchiveDeps,
  objects: { openResumable: NonNullable<ArchiveDeps['objects']['openResumable']> },
  key: string,
  lease: LockLease,
  url: string,
  options: PutStreamOptions & { readonly bodyId: string },
): Promise<PutResult> {
  const saved = await deps.state.getTransferCheckpoint(key);
  const upload = await objects.openResumable(key, options, saved);
  const download = await openRest(deps, upload, url, options.contentLength, saved === undefined);
  const outcome = await sendRest(upload, download, options.contentLength, {
    ...(deps.pause ? { pause: deps.pause } : {}),
    save: async (checkpoint) => {
      if (!(await deps.state.saveTransferCheckpoint(lease, checkpoint)))
        throw new ConflictError(`lost the transfer lease on ${key}: its checkpoint was not saved`);
    },
  });
  if ('paused' in outcome) {
    throw new TransferPausedError(
      `stopped at the invocation's deadline with ${outcome.paused.bytes} of ${options.contentLength} bytes of ${key} stored: the next delivery goes on from there`,
      // More than the checkpoint held, a restart's too (never a loop in place: process-work-message.ts).
      Math.max(0, outcome.paused.bytes - (saved?.bytes ?? 0)),
    );
  }
  // The upload is complete and gone: its checkpoint says nothing more (a crash before this drop
  // leaves one whose upload S3 no longer knows; the object is adopted before it is ever read).
  await deps.state.deleteTransferCheckpoint(key).catch(() => undefined);
  return outcome.done;
}

/** The body from the upload's offset on: none once every part is stored (the finish is left). */
async function openRest(
  deps: ArchiveDeps,
  upload: ResumableUpload,
  url: string,
  contentLength: number,
  fresh: boolean,
): Promise<MediaDownload> {
  if (upload.offset === contentLength)
    return { body: new PassThrough().end(), contentLength: 0, startsAt: upload.offset };
  try {
    return await deps.downloader.open(url, {
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(upload.offset > 0 ? { offset: upload.offset } : {}),
    });
  } catch (error) {
    // An upload just begun that no checkpoint names yet (its first is saved with its first
    // part): nothing would ever find it again.
    if (fresh || upload.restarted !== undefined) await upload.abort().catch(() => undefined);
    throw error;
  }
}

/** Streams `download` from the upload's offset into it; a failing side tears the other down. */
async function sendRest(
  upload: ResumableUpload,
  download: MediaDownload,
  contentLength: number,
  options: Parameters<ResumableUpload['transfer']>[1],
): ReturnType<ResumableUpload['transfer']> {
  const startsAt = download.startsAt ?? 0;
  if (startsAt > upload.offset) {
    download.body.destroy();
    throw new UnexpectedResponseError(`the CDN sent the file from byte ${startsAt}, not ${upload.offset}`);
  }
  // A body from byte 0 is judged as every download is (a 200 to a range may be an error page);
  // a 206 is the middle of a file.
  const first = startsAt === 0 ? new ErrorPageGuard(contentLength) : new PassThrough();
  const body = new PassThrough();
  let failed: unknown;
  const flowing = pipeline(download.body, first, new SkipBytes(upload.offset - startsAt), body).catch(
    (error: unknown) => {
      failed ??= error;
    },
  );
  try {
    return await upload.transfer(body, options);
  } catch (error) {
    // The download's own failure is the cause when it came first.
    throw failed ?? error;
  } finally {
    if (!body.destroyed) body.destroy();
    await flowing;
  }
}
