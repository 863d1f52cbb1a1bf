/**
 * A `MediaDownloader` that serves deterministic bytes per URL (`https://cdn.test/<id>?size=<n>`),
 * and answers 410 for URLs it was told have expired, as Apple's CDN does.
 */
import { Readable } from 'node:stream';
import { DownloadUrlExpiredError } from '#domain/errors.ts';
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';

export class ByteServingDownloader implements MediaDownloader {
  readonly expired = new Set<string>();
  opened = 0;

  async open(url: string): Promise<MediaDownload> {
    if (this.expired.has(url)) throw new DownloadUrlExpiredError('the CDN answered 410');
    this.opened++;
    const size = Number(new URL(url).searchParams.get('size') ?? '16');
    const id = new URL(url).pathname;
    const body = Buffer.alloc(size, id);
    return { body: Readable.from([body]), contentLength: size };
  }
}
