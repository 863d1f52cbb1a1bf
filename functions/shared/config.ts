/**
 * Configuration of the Lambda handlers (and the local runtime, which sets the same variables).
 * Read once at cold start; every missing or invalid variable is named in one error.
 */
import { ENV } from './env-names.ts';
import * as z from './zod.ts';

const fraction = z.coerce.number().check(z.gte(0), z.lte(1));

/**
 * The one place for the pipeline's tunable defaults: the Lambda config falls back to them, and
 * the local runtime and the CLI's view of a deployed stack use them as they are.
 */
export const PIPELINE_DEFAULTS = {
  /** Milliseconds before the deadline at which detection stops and uploads abort. */
  deadlineReserveMs: 20_000,
  /** Bytes per multipart-upload part, in MiB (S3's minimum is 5). */
  uploadPartSizeMiB: 8,
  /** Parts in flight at once per upload. */
  uploadQueueSize: 4,
  /** Versions over this many MiB are uploaded resumably (domain/archive/resumable-transfer.ts). */
  resumableFromMiB: 2048,
} as const;

const schema = z.object({
  archiveBucket: z.string().check(z.minLength(3)),
  stateTable: z.string().check(z.minLength(1)),
  workQueueUrl: z.url(),
  deadLetterQueueUrl: z.optional(z.url()),
  sessionSecretId: z.string().check(z.minLength(1)),
  icloudEndpoint: z._default(z.string().check(z.minLength(1)), 'apple'),
  deletePolicy: z._default(z.enum(['keep', 'mirror']), 'keep'),
  maxDeleteFraction: z._default(fraction, 0.05),
  /** Most objects a mirror run may delete (domain/plan/delete-policy.ts). */
  maxDeleteCount: z._default(z.coerce.number().check(z.int(), z.gte(0)), 1000),
  versionPolicy: z._default(z.string(), ''),
  /** How a new HEIC Live Photo video is named (domain/plan/live-video-name.ts). */
  liveVideoName: z._default(z.enum(['suffix', 'original']), 'suffix'),
  /** `on` (default) or `off`: archive the Shared Albums the account owns or joined. */
  sharedAlbums: z._default(z.enum(['on', 'off']), 'on'),
  /** Least minutes between two listings of the Shared Albums; 0 (default): every run. */
  sharedAlbumsEveryMinutes: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(10_080)), 0),
  xmpSidecars: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  deadlineReserveMs: z._default(
    z.coerce.number().check(z.int(), z.gte(1_000), z.lte(300_000)),
    PIPELINE_DEFAULTS.deadlineReserveMs,
  ),
  uploadPartSizeMiB: z._default(
    z.coerce.number().check(z.int(), z.gte(5), z.lte(512)),
    PIPELINE_DEFAULTS.uploadPartSizeMiB,
  ),
  uploadQueueSize: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(16)),
    PIPELINE_DEFAULTS.uploadQueueSize,
  ),
  resumableFromMiB: z._default(
    z.coerce.number().check(z.int(), z.gte(5), z.lte(5 * 1024 * 1024)),
    PIPELINE_DEFAULTS.resumableFromMiB,
  ),
  /** `true`: the bucket has Object Lock with a default retention; every multipart part carries a checksum. */
  archiveObjectLock: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  /** The class objects are written in; unset: STANDARD (the lifecycle rule moves them). */
  archiveStorageClass: z.optional(z.enum(['INTELLIGENT_TIERING'])),
});

export type PipelineConfig = Readonly<z.infer<typeof schema>>;

type Key = keyof z.infer<typeof schema>;
const VARIABLES: Record<Key, string> = {
  archiveBucket: ENV.archiveBucket,
  stateTable: ENV.stateTable,
  workQueueUrl: ENV.workQueueUrl,
  deadLetterQueueUrl: ENV.deadLetterQueueUrl,
  sessionSecretId: ENV.sessionSecretId,
  icloudEndpoint: ENV.icloudEndpoint,
  deletePolicy: ENV.deletePolicy,
  maxDeleteFraction: ENV.maxDeleteFraction,
  maxDeleteCount: ENV.maxDeleteCount,
  versionPolicy: ENV.versionPolicy,
  liveVideoName: ENV.liveVideoName,
  sharedAlbums: ENV.sharedAlbums,
  sharedAlbumsEveryMinutes: ENV.sharedAlbumsEveryMinutes,
  xmpSidecars: ENV.xmpSidecars,
  deadlineReserveMs: ENV.deadlineReserveMs,
  uploadPartSizeMiB: ENV.uploadPartSizeMiB,
  uploadQueueSize: ENV.uploadQueueSize,
  resumableFromMiB: ENV.resumableFromMiB,
  archiveObjectLock: ENV.archiveObjectLock,
  archiveStorageClass: ENV.archiveStorageClass,
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Builds the frozen pipeline configuration from environment variables. Empty strings count as
 * unset. Throws `ConfigError` naming every variable that is missing or invalid.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): PipelineConfig {
  const raw: Record<string, string> = {};
  for (const [key, variable] of Object.entries(VARIABLES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]) as Key;
      const variable = VARIABLES[key] ?? key;
      return raw[key] === undefined ? `${variable} is not set` : `${variable} is invalid: ${issue.message}`;
    });
    throw new ConfigError(`configuration: ${[...new Set(problems)].join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
