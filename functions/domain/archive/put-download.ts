/**
 * The one way a CDN download reaches the archive (the library's versions and the Shared Albums'
 * files): through `ErrorPageGuard` into the object store, which counts the bytes against the size
 * Apple declared and hashes them. Any failure leaves no object (`ArchivingObjectStore.putStream`).
 */
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaDownload } from '../../ports/media-download.ts';
import type { ArchivingObjectStore, PutResult, PutStreamOptions } from '../../ports/object-store.ts';
import { ErrorPageGuard } from './error-page-guard.ts';

/** Streams `download` into `key`; `options.contentLength` is the size Apple declared for the file. */
export async function putDownload(
  objects: ArchivingObjectStore,
  key: string,
  download: MediaDownload,
  options: PutStreamOptions,
): Promise<PutResult> {
  const guard = new ErrorPageGuard(options.contentLength);
  const body = new PassThrough();
  // Whichever side fails first is the cause; the other is then torn down so nothing is left
  // half-written: a failed put destroys the body, which ends the download; a failed download
  // errors the body, which aborts the put.
  let firstError: unknown;
  const remember = (error: unknown) => {
    firstError ??= error;
    throw error;
  };
  const flowing = pipeline(download.body, guard, body).catch(remember);
  const put = objects.putStream(key, body, options).catch((error: unknown) => {
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    return remember(error);
  });
  const [, putResult] = await Promise.allSettled([flowing, put]);
  if (firstError !== undefined) throw firstError;
  if (putResult.status === 'rejected') throw putResult.reason;
  return putResult.value;
}
