/**
 * What the archive benchmarks share: a simulator process, a signed-in session, the local AWS
 * stack (s3rver in its own process; DynamoDB and SQS here), and helpers that add videos of a
 * chosen size to the library, turn them into work messages (as detection would), and check the
 * archive against the simulator's ground truth afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IcloudAdapters, openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { type LocalAwsStack, openLocalAwsStack } from '#compose/local-aws-stack.ts';
import type { Asset } from '#domain/model/asset.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { createLogger } from '#shared/logger.ts';
import { toSimulatorUrl } from '#simulator/src/hosts.ts';
import { type SignedIn, signInToSimulator } from '#test/helpers/icloud-login.ts';
import { type ControlClient, controlClient } from '#test/helpers/simulator.ts';
import type { AwsTarget } from '../download-worker.ts';
import { type SimulatorProcess, startSimulatorProcess } from './simulator-process.ts';

interface TruthVersion {
  readonly kind: string;
  readonly size: number;
  readonly sha256?: string;
}
interface TruthAsset {
  readonly assetRecordName: string;
  readonly masterRecordName: string;
  readonly versions: readonly TruthVersion[];
}

/** Added videos, ready to archive: their current records (fresh URLs). */
export interface AddedVideos {
  readonly assets: readonly Asset[];
  readonly bytes: number;
}

export interface ArchiveFixture {
  readonly sim: SimulatorProcess;
  readonly control: ControlClient;
  readonly signedIn: SignedIn;
  readonly sessionFile: string;
  readonly stack: LocalAwsStack;
  readonly aws: AwsTarget;
  addVideos(count: number, sizeBytes: number): Promise<AddedVideos>;
  /** Work message bodies: `perMessage` assets each. */
  messages(assets: readonly Asset[], perMessage: number): string[];
  /** Plain CDN URLs (on the simulator's port) of the originals. */
  originalUrls(assets: readonly Asset[]): string[];
  /** Originals whose archived SHA-256 (manifest) is not the simulator's; 0 when all match. */
  mismatches(videos: AddedVideos): Promise<number>;
  stop(): Promise<void>;
}

const logger = createLogger({ level: 'SILENT' });

export async function openArchiveFixture(options: { readonly seed: number }): Promise<ArchiveFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'icloud-s3-bench-archive-'));
  const sim = await startSimulatorProcess({ assets: 4, seed: options.seed, mediaScale: 0.001 });
  let stack: LocalAwsStack | undefined;
  try {
    const control = controlClient(sim);
    const sessionFile = join(dir, 'session.json');
    const signedIn = await signInToSimulator(sim, sessionFile);
    const opened = await openLocalAwsStack({ dataDir: join(dir, 'data') });
    stack = opened;
    // Each use opens the stored session afresh and saves it after: the worker processes use
    // the same session file in between (CloudKit rotates its token on every answer).
    const withIcloud = async <T>(work: (icloud: IcloudAdapters) => Promise<T>): Promise<T> => {
      const icloud = await openIcloudAdapters({ ...signedIn, logger });
      try {
        return await work(icloud);
      } finally {
        await icloud.session.save();
      }
    };
    const zone = await withIcloud(async (icloud) =>
      (await icloud.source.discoverZones()).find(
        (z) => z.database === 'private' && z.zoneName === 'PrimarySync',
      ),
    );
    if (zone === undefined) throw new Error('the simulator has no PrimarySync zone');
    return {
      sim,
      control,
      signedIn,
      sessionFile,
      stack: opened,
      aws: {
        endpoints: opened.endpoints,
        bucket: opened.bucket,
        table: opened.table,
        queueUrl: opened.queues.queueUrl,
      },
      async addVideos(count, sizeBytes) {
        const added = await control.mutate<{ assets: Omit<TruthAsset, 'versions'>[] }>({
          op: 'add',
          kind: 'video',
          count,
          sizeBytes,
        });
        const looked = await withIcloud((icloud) =>
          icloud.source.lookupAssets(
            zone,
            added.assets.map((a) => ({
              assetRecordName: a.assetRecordName,
              masterRecordName: a.masterRecordName,
            })),
          ),
        );
        if (looked.assets.length !== count)
          throw new Error(`lookup found ${looked.assets.length} of ${count} videos`);
        const bytes = looked.assets.reduce(
          (sum, a) => sum + (a.versions.find((v) => v.kind === 'original')?.size ?? 0),
          0,
        );
        return { assets: looked.assets, bytes };
      },
      messages(assets, perMessage) {
        const bodies: string[] = [];
        for (let i = 0; i < assets.length; i += perMessage) {
          const message: WorkMessage = {
            v: WORK_MESSAGE_VERSION,
            runId: 'bench',
            issuedAt: Date.now(),
            items: assets.slice(i, i + perMessage).map((asset) => ({ type: 'asset', asset })),
          };
          bodies.push(JSON.stringify(message));
        }
        return bodies;
      },
      originalUrls(assets) {
        return assets.map((asset) => {
          const url = asset.versions.find((v) => v.kind === 'original')?.downloadUrl;
          if (url === undefined) throw new Error(`asset ${asset.assetRecordName} has no download URL`);
          return toSimulatorUrl(url, sim.baseUrl);
        });
      },
      async mismatches(videos) {
        // The simulator digests what its CDN serves (`/mutate` answers skip files over 100 MB).
        const truth = await control.library<{ assets: TruthAsset[] }>();
        const expected = new Map(
          truth.assets.map((a) => [a.assetRecordName, a.versions.find((v) => v.kind === 'original')?.sha256]),
        );
        let wrong = 0;
        for (const asset of videos.assets) {
          const entry = await opened.state.getEntry({
            zone: asset.zone,
            assetRecordName: asset.assetRecordName,
          });
          const archived = entry?.versions.find((v) => v.kind === 'original')?.sha256;
          if (archived === undefined || archived !== expected.get(asset.assetRecordName)) wrong++;
        }
        return wrong;
      },
      async stop() {
        await opened.stop();
        await sim.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stack?.stop().catch(() => undefined);
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
