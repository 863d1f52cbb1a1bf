/**
 * The first-sync baseline: a plain client of the kind icloudpd and icloud-photos-sync are, with
 * none of the pipeline. It lists the library with `records/query` on the
 * `CPLAssetAndMasterByAddedDate` index (pages of 200 records, `startRank` advanced by the assets
 * each page returned, until an empty page) and, while it lists, downloads every original with
 * `concurrency` transfers at once, each one `PutObject` into the given S3. No manifest, no
 * state, no retries: what any tool must do at the least to copy the same files.
 *
 * It signs in as icloudpd does (`IcloudpdLikePeer`, test/helpers/peer-client.ts): its own cookie
 * jar and SRP client, sharing no code with `functions/`.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { IcloudpdLikePeer, type PeerAsset } from '#test/helpers/peer-client.ts';

export interface ReferenceRun {
  readonly assets: number;
  readonly bytes: number;
  readonly pages: number;
  /** Sign-in to the last upload. */
  readonly ms: number;
  /** The sign-in alone (part of `ms`). */
  readonly signInMs: number;
}

const MAX_PAGES = 100_000;

export async function runReferenceClient(options: {
  readonly sim: { readonly baseUrl: string; readonly appleId: string; readonly password: string };
  readonly code: () => Promise<string>;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly concurrency: number;
}): Promise<ReferenceRun> {
  const started = performance.now();
  const peer = new IcloudpdLikePeer(options.sim.baseUrl, options.sim.appleId, options.sim.password);
  await peer.signIn(options.code);
  const signInMs = performance.now() - started;

  // Listing feeds a queue; `concurrency` workers drain it while the next page is fetched.
  const queue: PeerAsset[] = [];
  let listingDone = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let bytes = 0;
  let assets = 0;
  let pages = 0;
  let keys = 0;
  const copy = async (asset: PeerAsset) => {
    // A plain key: file names from iCloud may hold characters s3rver does not take in a path.
    const key = `reference/${keys++}`;
    const res = await peer.openDownload(asset);
    const body = Buffer.from(await res.arrayBuffer());
    await options.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
      }),
    );
    bytes += body.length;
    assets++;
  };
  const worker = async () => {
    for (;;) {
      const asset = queue.shift();
      if (asset !== undefined) {
        await copy(asset);
        continue;
      }
      if (listingDone) return;
      await new Promise<void>((resolve) => {
        const previous = wake;
        wake = () => {
          previous?.();
          resolve();
        };
      });
    }
  };
  const list = async () => {
    try {
      let startRank = 0;
      for (;;) {
        if (pages >= MAX_PAGES) throw new Error('the listing did not end');
        const page = await peer.listPage(startRank);
        pages++;
        if (page.length === 0) return;
        queue.push(...page);
        startRank += page.length;
        notify();
      }
    } finally {
      listingDone = true;
      notify();
    }
  };
  await Promise.all([list(), ...Array.from({ length: Math.max(1, options.concurrency) }, worker)]);
  return { assets, bytes, pages, ms: performance.now() - started, signInMs };
}
