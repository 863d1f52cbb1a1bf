/**
 * Configuration of the Lambda handlers (and the local runtime, which sets the same variables).
 * Read once at cold start; every missing or invalid variable is named in one error.
 */
import * as z from 'zod';
import { ENV } from './env-names.ts';

const fraction = z.coerce.number().min(0).max(1);

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
} as const;

const schema = z.object({
  archiveBucket: z.string().min(3),
  stateTable: z.string().min(1),
  workQueueUrl: z.string().url(),
  deadLetterQueueUrl: z.string().url().optional(),
  sessionSecretId: z.string().min(1),
  icloudEndpoint: z.string().min(1).default('apple'),
  deletePolicy: z.enum(['keep', 'mirror']).default('keep'),
  maxDeleteFraction: fraction.default(0.05),
  versionPolicy: z.string().default(''),
  /** `on` (default) or `off`: archive the Shared Albums the account owns or joined. */
  sharedAlbums: z.enum(['on', 'off']).default('on'),
  /** Least minutes between two listings of the Shared Albums; 0 (default): every run. */
  sharedAlbumsEveryMinutes: z.coerce.number().int().min(0).max(10_080).default(0),
  xmpSidecars: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  deadlineReserveMs: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(300_000)
    .default(PIPELINE_DEFAULTS.deadlineReserveMs),
  uploadPartSizeMiB: z.coerce.number().int().min(5).max(512).default(PIPELINE_DEFAULTS.uploadPartSizeMiB),
  uploadQueueSize: z.coerce.number().int().min(1).max(16).default(PIPELINE_DEFAULTS.uploadQueueSize),
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
  versionPolicy: ENV.versionPolicy,
  sharedAlbums: ENV.sharedAlbums,
  sharedAlbumsEveryMinutes: ENV.sharedAlbumsEveryMinutes,
  xmpSidecars: ENV.xmpSidecars,
  deadlineReserveMs: ENV.deadlineReserveMs,
  uploadPartSizeMiB: ENV.uploadPartSizeMiB,
  uploadQueueSize: ENV.uploadQueueSize,
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
