/**
 * A multipart upload that outlives the worker invocation that started it: a video longer than one
 * invocation moves (docs/deploy.md, "Very large videos"). lib-storage's `Upload` cannot stop and
 * go on later, so the parts are sent here, each with its CRC32 (S3 checks it on arrival: no
 * whole-object ETag checks a multipart object), at most `queueSize` at once.
 *
 * When `pause` fires (the invocation's deadline nears) the upload stops reading, waits for the
 * parts in flight and saves a checkpoint at the last part of the unbroken run from part 1: the
 * upload id, the part size, the parts and bytes it holds, and the MD5's and SHA-256's states at
 * that byte (resumable-digest.ts; the body is hashed a whole part at a time, so a part read but not
 * sent does not count). The next invocation opens the upload from that checkpoint, checks with
 * ListParts (page by page) that S3 holds exactly those parts, and streams the rest from that byte.
 * Whatever S3 does not bear out starts over from byte 0: an upload S3 no longer knows (the
 * lifecycle rule aborts stale ones), a part missing or of another size, a checkpoint of another
 * length, hash states this build cannot load. The old upload is aborted then, so nothing of it can
 * be completed into a mix. A checkpoint never counts the last part: the rest of the body is never
 * empty (a CDN answers a range at the end of a file 416).
 *
 * Except one: once every part is stored, a checkpoint counting them all, with the ETag the
 * completed object will have, is saved before CompleteMultipartUpload. Whatever ends the invocation
 * after that (its deadline during the completion or the metadata copy over 5 GiB, a crash), the next
 * delivery downloads nothing: it completes the upload if S3 still lists every part, or finishes the
 * object S3 completed if it is current at the key with that ETag (the finish leaves it there staged
 * when it fails, s3-object-store.ts), and starts over only when neither is so.
 * A body that ends short keeps its parts (a connection dropped: the next delivery asks for the
 * rest); one longer than declared is no prefix of this file, and its upload is aborted.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type {
  AbortMultipartUploadCommandInput,
  CompleteMultipartUploadCommandInput,
  CompleteMultipartUploadCommandOutput,
  ListPartsCommandInput,
  ListPartsCommandOutput,
  UploadPartCommandInput,
  UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import type {
  BodyDigest,
  PutResult,
  ResumableUpload,
  ResumeRefusal,
  UploadCheckpoint,
} from '#ports/object-store.ts';
import type { MultipartShape } from './multipart-shape.ts';
import { ResumableDigest, type SavedDigest } from './resumable-digest.ts';

/** The checksum every part of a resumable upload carries. */
const PART_CHECKSUM = 'CRC32';

/**
 * The requests the upload sends, built by the store with the SDK's commands: this module is a
 * chunk loaded on this path alone (infra/lambda-bundle.ts), so it imports nothing the workers'
 * bundle already holds (a module both import would move to a chunk every cold start loads).
 */
export interface MultipartRequests {
  listParts(input: ListPartsCommandInput, signal?: AbortSignal): Promise<ListPartsCommandOutput>;
  uploadPart(input: UploadPartCommandInput, signal?: AbortSignal): Promise<UploadPartCommandOutput>;
  complete(
    input: CompleteMultipartUploadCommandInput,
    signal?: AbortSignal,
  ): Promise<CompleteMultipartUploadCommandOutput>;
  abort(input: AbortMultipartUploadCommandInput): Promise<unknown>;
}

/** S3's part limits (multipart-shape.ts), handed in for the same reason. */
export interface PartLimits {
  readonly minPartSize: number;
  readonly maxPartSize: number;
  readonly maxParts: number;
}

export interface ResumableUploadTarget {
  readonly requests: MultipartRequests;
  readonly limits: PartLimits;
  /** The store's error for a body of another length than declared (`ContentLengthMismatchError`). */
  lengthMismatch(expected: number, received: number): Error;
  readonly bucket: string;
  readonly key: string;
  readonly contentLength: number;
  /** What the body is (Apple's `fileChecksum`): a checkpoint of another is not continued. */
  readonly bodyId?: string;
  /** The shape of a new upload (multipart-shape.ts); a resumed one keeps its checkpoint's part size. */
  readonly shape: MultipartShape;
  /** Parts per ListParts page (S3 lists at most 1,000). */
  readonly listPartsPageSize: number;
  /** Aborting fails the transfer (the lease lost, the invocation's end reached). */
  readonly signal?: AbortSignal;
  /** Creates the multipart upload (metadata, staging tag, the part checksum); its upload id. */
  create(): Promise<string>;
  /** The object current at the key, when there is one. */
  head(): Promise<{ readonly etag: string; readonly size: number } | undefined>;
  /** Finishes the completed object as every multipart put is (s3-object-store.ts, `finishUpload`). */
  finish(etag: string, digest: BodyDigest): Promise<PutResult>;
}

interface StoredPart {
  readonly etag: string;
  readonly checksum?: string;
}

function isNoSuchUpload(error: unknown): boolean {
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return name === 'NoSuchUpload' || $metadata?.httpStatusCode === 404;
}

/** An ETag without the quotes S3 puts around it. */
function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/**
 * The ETag S3 gives the completion of these parts (`hex(md5(their binary MD5s))-<parts>`: what
 * users observe, not documented; s3-etags.ts), or '' when a part's ETag is no MD5 (SSE-KMS).
 */
function multipartEtag(etags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of etags) {
    if (!/^[0-9a-f]{32}$/.test(etag)) return '';
    md5.update(Buffer.from(etag, 'hex'));
  }
  return `${md5.digest('hex')}-${etags.length}`;
}

/** Whether `from` can describe an upload of `contentLength` bytes this store would accept. */
function fitsBody(from: UploadCheckpoint, target: ResumableUploadTarget): boolean {
  const { partSize, parts } = from;
  const { contentLength, limits } = target;
  const total = Math.ceil(contentLength / partSize);
  // Every part stored (the completion under way) is the one checkpoint that counts the last part.
  if (from.etag !== undefined && (parts !== total || from.bytes !== contentLength)) return false;
  return (
    from.contentLength === contentLength &&
    from.bodyId === target.bodyId &&
    Number.isInteger(partSize) &&
    partSize >= limits.minPartSize &&
    partSize <= limits.maxPartSize &&
    total <= limits.maxParts &&
    Number.isInteger(parts) &&
    parts >= 0 &&
    (from.etag !== undefined || (parts < total && from.bytes === parts * partSize))
  );
}

/** Parts 1 to `parts` as S3 lists them, or why they do not bear out the checkpoint. */
async function listedParts(
  target: ResumableUploadTarget,
  from: UploadCheckpoint,
): Promise<Map<number, StoredPart> | ResumeRefusal> {
  const parts = new Map<number, StoredPart>();
  let marker: string | undefined;
  for (;;) {
    let page: ListPartsCommandOutput;
    try {
      page = await target.requests.listParts(
        {
          Bucket: target.bucket,
          Key: target.key,
          UploadId: from.uploadId,
          MaxParts: target.listPartsPageSize,
          ...(marker === undefined ? {} : { PartNumberMarker: marker }),
        },
        target.signal,
      );
    } catch (error) {
      if (isNoSuchUpload(error)) return 'no-such-upload';
      throw error;
    }
    let last = 0;
    for (const part of page.Parts ?? []) {
      last = part.PartNumber ?? 0;
      if (last < 1 || last > from.parts) continue;
      // Every part but the last has the part size (the last one is stored only in a completing one).
      const size = Math.min(from.partSize, target.contentLength - (last - 1) * from.partSize);
      if (part.Size !== size || part.ETag === undefined) return 'parts-differ';
      parts.set(last, {
        etag: unquote(part.ETag),
        ...(part.ChecksumCRC32 === undefined ? {} : { checksum: part.ChecksumCRC32 }),
      });
    }
    if (last >= from.parts || page.IsTruncated !== true || page.NextPartNumberMarker === undefined) break;
    marker = page.NextPartNumberMarker;
  }
  return parts.size === from.parts ? parts : 'parts-differ';
}

async function abortUpload(target: ResumableUploadTarget, uploadId: string): Promise<void> {
  try {
    await target.requests.abort({ Bucket: target.bucket, Key: target.key, UploadId: uploadId });
  } catch (error) {
    if (!isNoSuchUpload(error)) throw error;
  }
}

/** Opens the upload: `from` continued when S3 bears it out, else a new one (the old aborted). */
export async function openResumableUpload(
  target: ResumableUploadTarget,
  from: UploadCheckpoint | undefined,
): Promise<ResumableUpload> {
  let refusal: ResumeRefusal | undefined;
  if (from !== undefined) {
    let resumed:
      | { digest: ResumableDigest; parts: Map<number, StoredPart>; completedAs?: string }
      | undefined;
    if (!fitsBody(from, target)) refusal = 'another-body';
    else {
      const saved = { bytes: from.bytes, md5: from.md5State, sha256: from.sha256State };
      const digest = await ResumableDigest.start(saved).catch(() => undefined);
      if (digest === undefined) refusal = 'state-unreadable';
      else {
        const parts = await listedParts(target, from);
        if (typeof parts !== 'string') resumed = { digest, parts };
        else if (parts === 'no-such-upload' && from.etag) {
          // S3 completed it: the object at the key is ours when it has the ETag saved.
          const head = await target.head();
          if (head?.etag === from.etag && head.size === target.contentLength)
            resumed = { digest, parts: new Map(), completedAs: head.etag };
        }
        if (resumed === undefined) refusal = typeof parts === 'string' ? parts : 'parts-differ';
      }
    }
    if (resumed !== undefined) {
      const queueSize =
        from.partSize === target.shape.partSize
          ? target.shape.queueSize
          : Math.max(1, Math.floor((target.shape.queueSize * target.shape.partSize) / from.partSize));
      const upload = new PartUploads(
        target,
        from.uploadId,
        from.partSize,
        queueSize,
        from,
        resumed.digest,
        resumed.parts,
      );
      upload.completedAs = resumed.completedAs;
      return upload;
    }
    if (refusal !== 'no-such-upload') await abortUpload(target, from.uploadId);
  }
  const uploadId = await target.create();
  const digest = await ResumableDigest.start();
  const { partSize, queueSize } = target.shape;
  const upload = new PartUploads(target, uploadId, partSize, queueSize, undefined, digest, new Map());
  if (refusal !== undefined) upload.restarted = refusal;
  return upload;
}

/** One invocation's share of a resumable upload. */
class PartUploads implements ResumableUpload {
  restarted?: ResumeRefusal;
  readonly offset: number;
  /** Parts 1..`contiguous` are stored. */
  private contiguous: number;
  /** Parts a checkpoint of this upload counts: it may be resumed (its parts kept) past a failure. */
  private savedParts: number | undefined;
  /** The hashes' states at the end of each part read but not yet in the unbroken run. */
  private readonly states = new Map<number, SavedDigest>();
  private readonly done = new Set<number>();
  private readonly totalParts: number;
  /** The body had more bytes than declared: nothing of it is kept. */
  private lengthFailed = false;
  /** The ETag a saved checkpoint expects of the completion (`UploadCheckpoint.etag`). */
  private savedEtag: string | undefined;
  /** The ETag S3 completed the upload with, once it did (the finish is what is left). */
  completedAs: string | undefined;

  constructor(
    private readonly target: ResumableUploadTarget,
    private readonly uploadId: string,
    private readonly partSize: number,
    private readonly queueSize: number,
    from: UploadCheckpoint | undefined,
    private readonly digest: ResumableDigest,
    private readonly parts: Map<number, StoredPart>,
  ) {
    this.offset = from?.bytes ?? 0;
    this.contiguous = from?.parts ?? 0;
    this.savedParts = from?.parts;
    this.savedEtag = from?.etag;
    this.states.set(this.contiguous, digest.save());
    this.totalParts = Math.ceil(target.contentLength / partSize);
  }

  async abort(): Promise<void> {
    await abortUpload(this.target, this.uploadId);
  }

  async transfer(
    body: Readable,
    options: { readonly pause?: AbortSignal; readonly save: (checkpoint: UploadCheckpoint) => Promise<void> },
  ): ReturnType<ResumableUpload['transfer']> {
    const { signal } = this.target;
    let paused = false;
    let completing = false;
    const stop = () => {
      paused = true;
      body.destroy();
    };
    // As the store's other puts fail when their signal fires: an `AbortError` (retryable).
    const aborted = () =>
      Object.assign(new Error('upload aborted', { cause: signal?.reason }), { name: 'AbortError' });
    const hardStop = () => body.destroy(aborted());
    // With every part stored there is nothing to pause: the finish is what is left.
    const pause = this.offset < this.target.contentLength ? options.pause : undefined;
    pause?.addEventListener('abort', stop, { once: true });
    signal?.addEventListener('abort', hardStop, { once: true });
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    try {
      if (signal?.aborted) throw aborted();
      // A new upload is made known before its first part: a delivery that dies without a word
      // leaves an upload the next one continues, never one nobody knows of (until the lifecycle
      // rule's abort).
      if (this.savedParts === undefined) {
        const first = this.checkpoint();
        await options.save(first);
        this.savedParts = first.parts;
      }
      if (pause?.aborted) stop();
      const whole = await this.readParts(
        body,
        inFlight,
        () => paused || failure !== undefined,
        (error) => {
          failure ??= error;
        },
      ).catch((error: unknown) => {
        if (!paused) throw error;
        return false;
      });
      await Promise.allSettled([...inFlight]);
      if (failure !== undefined) throw failure;
      if (signal?.aborted) throw aborted();
      // A pause that came once the whole body was read and sent changes nothing: it completes.
      if (paused && !whole) {
        const checkpoint = this.checkpoint();
        await options.save(checkpoint);
        this.savedParts = checkpoint.parts;
        return { paused: checkpoint };
      }
      completing = true;
      return { done: await this.complete(options.save) };
    } catch (error) {
      await Promise.allSettled([...inFlight]);
      // A body of another length is no prefix of this file to go on from.
      const keep = !completing && !this.lengthFailed;
      await this.afterFailure(options.save, keep);
      throw error;
    } finally {
      pause?.removeEventListener('abort', stop);
      signal?.removeEventListener('abort', hardStop);
    }
  }

  /**
   * Reads the body a part at a time from `offset`, hashing each whole part and sending it, until
   * the body ends (its length checked) or `stopped()`. A part's failure is told to `failed`.
   * True when every part of the body was sent (or is under way).
   */
  private async readParts(
    body: Readable,
    inFlight: Set<Promise<void>>,
    stopped: () => boolean,
    failed: (error: unknown) => void,
  ): Promise<boolean> {
    const { contentLength } = this.target;
    let position = this.offset;
    let partNumber = this.contiguous + 1;
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const send = async (bytes: Buffer) => {
      while (inFlight.size >= this.queueSize) await Promise.race(inFlight);
      if (stopped()) return false;
      this.digest.update(bytes);
      this.states.set(partNumber, this.digest.save());
      const sending = this.sendPart(partNumber, bytes).then(
        () => void inFlight.delete(sending),
        (error: unknown) => {
          inFlight.delete(sending);
          failed(error);
        },
      );
      inFlight.add(sending);
      partNumber++;
      return true;
    };
    for await (const chunk of body as AsyncIterable<Buffer>) {
      position += chunk.length;
      if (position > contentLength) throw this.mismatch(position);
      gathered.push(chunk);
      gatheredBytes += chunk.length;
      while (gatheredBytes >= this.partSize && (position < contentLength || gatheredBytes > this.partSize)) {
        const whole = Buffer.concat(gathered, gatheredBytes);
        gathered = [whole.subarray(this.partSize)];
        gatheredBytes = whole.length - this.partSize;
        if (!(await send(whole.subarray(0, this.partSize)))) return false;
      }
      if (stopped()) return false;
    }
    // A body that ends short (a connection dropped) is a prefix still: its parts are kept.
    if (position !== contentLength) throw this.target.lengthMismatch(contentLength, position);
    if (gatheredBytes > 0) return send(Buffer.concat(gathered, gatheredBytes));
    return true;
  }

  private mismatch(received: number): Error {
    this.lengthFailed = true;
    return this.target.lengthMismatch(this.target.contentLength, received);
  }

  private async sendPart(partNumber: number, bytes: Buffer): Promise<void> {
    const sent = await this.target.requests.uploadPart(
      {
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        PartNumber: partNumber,
        Body: bytes,
        ChecksumAlgorithm: PART_CHECKSUM,
      },
      this.target.signal,
    );
    this.parts.set(partNumber, {
      etag: unquote(sent.ETag),
      ...(sent.ChecksumCRC32 === undefined ? {} : { checksum: sent.ChecksumCRC32 }),
    });
    this.done.add(partNumber);
    while (this.done.has(this.contiguous + 1)) {
      this.done.delete(this.contiguous + 1);
      this.states.delete(this.contiguous);
      this.contiguous++;
    }
  }

  /** The checkpoint at the unbroken run's end, short of the last part; every part given `etag`. */
  private checkpoint(etag?: string): UploadCheckpoint {
    const parts = etag === undefined ? Math.min(this.contiguous, this.totalParts - 1) : this.totalParts;
    const state = this.states.get(parts);
    if (state === undefined) throw new Error(`no hash state kept at part ${parts}`);
    return {
      uploadId: this.uploadId,
      contentLength: this.target.contentLength,
      ...(this.target.bodyId === undefined ? {} : { bodyId: this.target.bodyId }),
      partSize: this.partSize,
      parts,
      bytes: Math.min(parts * this.partSize, this.target.contentLength),
      md5State: state.md5,
      sha256State: state.sha256,
      ...(etag === undefined ? {} : { etag }),
    };
  }

  /**
   * Completes the upload (a checkpoint saying so saved first) and finishes the object, or only
   * finishes it when S3 had completed it already.
   */
  private async complete(save: (checkpoint: UploadCheckpoint) => Promise<void>): Promise<PutResult> {
    if (this.completedAs !== undefined) return this.target.finish(this.completedAs, this.digest.digest());
    const listed = [...this.parts.entries()]
      .filter(([number]) => number <= this.totalParts)
      .sort(([a], [b]) => a - b)
      .map(([number, part]) => ({
        PartNumber: number,
        ETag: `"${part.etag}"`,
        ...(part.checksum === undefined ? {} : { ChecksumCRC32: part.checksum }),
      }));
    if (listed.length !== this.totalParts) throw new Error('a part of the upload was not sent');
    const expected = multipartEtag(listed.map(({ ETag }) => unquote(ETag)));
    if (this.savedEtag !== expected) {
      await save(this.checkpoint(expected));
      this.savedEtag = expected;
    }
    const completed = await this.target.requests.complete(
      {
        Bucket: this.target.bucket,
        Key: this.target.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: listed },
      },
      this.target.signal,
    );
    const etag = unquote(completed.ETag);
    // S3's own, where our reckoning of it differs: best effort, what the next delivery compares.
    if (etag !== expected) await save(this.checkpoint(etag)).catch(() => undefined);
    this.completedAs = etag;
    return this.target.finish(etag, this.digest.digest());
  }

  /**
   * After a failure: parts added since the last checkpoint are kept behind a new one (best effort:
   * a lease lost refuses it), unless the completion was under way or the body was longer than
   * declared (`keep` false). An upload no checkpoint counts, or of a body too long, is aborted, so
   * it leaves nothing (a checkpoint naming it then starts over: `NoSuchUpload`).
   */
  private async afterFailure(
    save: (checkpoint: UploadCheckpoint) => Promise<void>,
    keep: boolean,
  ): Promise<void> {
    if (keep && this.contiguous > (this.savedParts ?? 0) && this.contiguous < this.totalParts) {
      const checkpoint = this.checkpoint();
      await save(checkpoint).then(
        () => {
          this.savedParts = checkpoint.parts;
        },
        () => undefined,
      );
    }
    if (this.savedParts === undefined || this.lengthFailed) await this.abort().catch(() => undefined);
  }
}
