/**
 * The MD5 and SHA-256 of a body whose bytes arrive over several invocations (a video longer than
 * one worker can move: the resumable upload, s3-resumable-upload.ts). Node's crypto cannot export
 * a hash's state, so these are hash-wasm's (WebAssembly, ~450/330 MB/s here: far above a CDN's
 * pace), whose state is saved into the upload's checkpoint and loaded by the next invocation.
 *
 * hash-wasm is imported when first needed, never at a cold start: the bundler leaves it in a chunk
 * of its own beside the workers' index.mjs (infra/lambda-bundle.ts), loaded by resumable uploads
 * alone. Every other upload keeps Node's crypto (metered-stream.ts).
 *
 * A state is only good for the hash-wasm build that saved it: `load` refuses another's (an update
 * deployed between two invocations of one upload), and the upload then starts over.
 */
import type { IHasher } from 'hash-wasm';
import type { BodyDigest } from '#ports/object-store.ts';

/** The state of both hashes after `bytes` bytes, as a checkpoint stores it (base64). */
export interface SavedDigest {
  readonly bytes: number;
  readonly md5: string;
  readonly sha256: string;
}

export class ResumableDigest {
  private constructor(
    private readonly md5: IHasher,
    private readonly sha256: IHasher,
    private count: number,
  ) {}

  /** Fresh, or from `saved` (rejects when it is no state this build of hash-wasm saved). */
  static async start(saved?: SavedDigest): Promise<ResumableDigest> {
    const { createMD5, createSHA256 } = await import('./hash-wasm-digests.ts');
    const [md5, sha256] = await Promise.all([createMD5(), createSHA256()]);
    md5.init();
    sha256.init();
    if (saved !== undefined) {
      md5.load(Buffer.from(saved.md5, 'base64'));
      sha256.load(Buffer.from(saved.sha256, 'base64'));
    }
    return new ResumableDigest(md5, sha256, saved?.bytes ?? 0);
  }

  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.count += chunk.length;
  }

  get bytes(): number {
    return this.count;
  }

  save(): SavedDigest {
    return {
      bytes: this.count,
      md5: Buffer.from(this.md5.save()).toString('base64'),
      sha256: Buffer.from(this.sha256.save()).toString('base64'),
    };
  }

  /** The digests of every byte so far; the hashers are spent after it. */
  digest(): BodyDigest {
    return { bytes: this.count, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }
}
