/**
 * Serves a local archive's bucket over the S3 API on loopback, read-only, so rclone, the AWS CLI
 * or any S3 client can browse and copy it exactly as from the real bucket: the same keys, the
 * same `mtime` and `md5chksum` metadata, the same ETags. s3rver reads the objects straight from
 * `<dataDir>/aws/s3` (no copy); the read-only proxy in front of it listens on the chosen port.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_RESOURCES } from '#compose/local-resources.ts';
import { InvalidInputError } from '#domain/errors.ts';
import { LOCAL_REGION } from '../servers/client-config.ts';
import { startS3Server } from '../servers/s3-server.ts';
import { startReadOnlyProxy } from './read-only-proxy.ts';

/** What an S3 client needs to reach the served bucket (the first line `local serve` prints). */
export interface ServedArchive {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** s3rver's one key pair: not a secret, it opens nothing but this loopback server. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface ArchiveServer {
  readonly served: ServedArchive;
  /** Stops the proxy and the S3 server; safe to call twice. */
  stop(): Promise<void>;
}

export interface ServeArchiveOptions {
  readonly dataDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

/** The key pair s3rver accepts (its only one). */
const S3RVER_KEY = 'S3RVER';

/**
 * Starts serving `<dataDir>`'s archive on 127.0.0.1.
 * @throws InvalidInputError when there is no archive bucket under `dataDir`.
 */
export async function serveArchive(options: ServeArchiveOptions): Promise<ArchiveServer> {
  const directory = path.join(options.dataDir, 'aws', 's3');
  if (!existsSync(path.join(directory, LOCAL_RESOURCES.bucket))) {
    throw new InvalidInputError(
      `no local archive at ${options.dataDir}: run "icloud-s3 sync --local ${options.dataDir}" first`,
    );
  }
  // Never the start-up repair: a `sync` may be writing this folder now, and its files in
  // progress (a `.icloud-s3-partial-*` body, a new object's metadata) would look like debris.
  const s3 = await startS3Server({ directory, repair: false });
  let proxy: Awaited<ReturnType<typeof startReadOnlyProxy>>;
  try {
    proxy = await startReadOnlyProxy({ upstream: s3.endpoint, port: options.port ?? 0 });
  } catch (error) {
    await s3.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    served: {
      endpoint: proxy.endpoint,
      bucket: LOCAL_RESOURCES.bucket,
      region: LOCAL_REGION,
      accessKeyId: S3RVER_KEY,
      secretAccessKey: S3RVER_KEY,
    },
    stop() {
      stopping ??= (async () => {
        await proxy.stop();
        await s3.stop();
      })();
      return stopping;
    },
  };
}
