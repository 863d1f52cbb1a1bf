import { z } from 'zod';

/** Prefix of every setting in cdk.json `context` (and `cdk deploy -c`). */
export const CONTEXT_PREFIX = 'icloudS3:';

/**
 * Words of the `VERSION_POLICY` string (mirrors `VERSION_POLICY_WORDS` in
 * functions/domain/plan/version-policy.ts, which infra may not import; a test keeps them equal).
 */
export const VERSION_POLICY_WORDS = [
  'default',
  'original',
  'live',
  'alternative',
  'adjusted',
  'screenshot-render',
  'medium',
  'thumb',
] as const;

/** How a HEIC Live Photo's video is named (mirrors `LIVE_VIDEO_NAMES` in functions/domain/plan/live-video-name.ts). */
export const LIVE_VIDEO_NAMES = ['suffix', 'original'] as const;

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Where archived objects move after `transitionDays`; both are readable by rclone without a restore. */
export type TransitionClass = 'none' | 'INTELLIGENT_TIERING' | 'GLACIER_IR';
export type ObjectLockMode = 'none' | 'governance' | 'compliance';

/** The validated deployment settings. Frozen; every field has a value. */
export interface InfraConfig {
  readonly stackName: string;
  readonly alarmEmail: string | undefined;
  readonly scheduleMinutes: number;
  readonly downloadConcurrency: number;
  readonly deletePolicy: 'keep' | 'mirror';
  readonly maxDeleteFraction: number;
  /** Most objects one mirror run may delete (`MAX_DELETE_COUNT`), whatever the archive's size. */
  readonly maxDeleteCount: number;
  readonly versionPolicy: string;
  /** `suffix` (`IMG_0001_HEVC.MOV`, default) or `original` (`IMG_0001.MOV`): a HEIC Live Photo's video. */
  readonly liveVideoName: (typeof LIVE_VIDEO_NAMES)[number];
  /** Archive the Shared Albums the account owns or joined (docs/archive-layout.md, section 12). */
  readonly sharedAlbums: boolean;
  /** Least minutes between two Shared Albums listings; 0 lists on every run. */
  readonly sharedAlbumsEveryMinutes: number;
  /** Write `<original>.xmp` sidecars beside each original (off by default). */
  readonly xmpSidecars: boolean;
  readonly kmsEncryption: boolean;
  readonly objectLockMode: ObjectLockMode;
  readonly objectLockDays: number;
  readonly noncurrentExpiryDays: number;
  readonly transitionClass: TransitionClass;
  readonly transitionDays: number;
  readonly noSyncAlarmHours: number;
  readonly queueAgeAlarmHours: number;
  readonly logRetentionDays: number;
  readonly icloudEndpoint: 'apple' | 'apple-cn';
  /**
   * IAM principal ARNs (wildcards allowed) that may read and write the session secret besides the
   * two functions, the account root, IAM users and IAM Identity Center roles: a person who runs
   * `icloud-s3 login --aws` through some other role (see SessionSecret).
   */
  readonly sessionAdminArns: readonly string[];
}

/** Thrown at synth time; `message` lists every bad setting, each with its name and the fix. */
export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid icloud-s3 deployment settings:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads one raw context value (e.g. `app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

const integer = (min: number, max: number) =>
  z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+$/)
        .transform(Number),
    ])
    .pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .union([
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+(\.\d+)?$/)
        .transform(Number),
    ])
    .pipe(z.number().min(min).max(max));

const boolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.string().trim().pipe(z.enum(values));

const versionPolicy = z
  .string()
  .trim()
  .refine((text) =>
    text.split(',').every((raw) => {
      const token = raw.trim().toLowerCase();
      const word = token.startsWith('-') ? token.slice(1) : token;
      return token !== '-original' && (VERSION_POLICY_WORDS as readonly string[]).includes(word);
    }),
  );

const arnList = z
  .union([z.string(), z.array(z.string())])
  .transform((raw) => (Array.isArray(raw) ? raw : raw.split(',')).map((arn) => arn.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):[A-Za-z0-9+=,.@_/*-]+$/)));

interface Setting<K extends keyof InfraConfig> {
  /** What a valid value is, phrased to follow "<name> must be". */
  readonly rule: string;
  readonly schema: z.ZodType<InfraConfig[K]>;
  readonly fallback: InfraConfig[K];
}

type Settings = { readonly [K in keyof InfraConfig]: Setting<K> };

const SETTINGS: Settings = {
  stackName: {
    rule: 'a CloudFormation stack name: a letter, then letters, digits or hyphens, at most 128',
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/),
    fallback: 'IcloudS3',
  },
  alarmEmail: {
    rule: 'an email address',
    schema: z.string().trim().pipe(z.email()),
    fallback: undefined,
  },
  scheduleMinutes: { rule: 'an integer from 5 to 1440', schema: integer(5, 1440), fallback: 15 },
  downloadConcurrency: {
    rule: 'an integer from 2 to 20 (Lambda needs at least 2; Apple throttles well before 20)',
    schema: integer(2, 20),
    fallback: 5,
  },
  deletePolicy: { rule: 'one of keep, mirror', schema: oneOf(['keep', 'mirror']), fallback: 'keep' },
  maxDeleteFraction: { rule: 'a number from 0 to 1', schema: decimal(0, 1), fallback: 0.05 },
  maxDeleteCount: {
    rule: 'a whole number of objects from 0 to 1000000000',
    schema: integer(0, 1_000_000_000),
    fallback: 1000,
  },
  versionPolicy: {
    rule: `a comma-separated list of ${VERSION_POLICY_WORDS.join(', ')}, each but original optionally prefixed with "-" to remove it`,
    schema: versionPolicy,
    fallback: 'default',
  },
  liveVideoName: {
    rule: `one of ${LIVE_VIDEO_NAMES.join(', ')} (new objects only: archived keys are never renamed)`,
    schema: oneOf(LIVE_VIDEO_NAMES),
    fallback: 'suffix',
  },
  sharedAlbums: { rule: 'true or false', schema: boolean, fallback: true },
  sharedAlbumsEveryMinutes: { rule: 'an integer from 0 to 10080', schema: integer(0, 10_080), fallback: 0 },
  xmpSidecars: { rule: 'true or false', schema: boolean, fallback: false },
  kmsEncryption: { rule: 'true or false', schema: boolean, fallback: false },
  objectLockMode: {
    rule: 'one of none, governance, compliance',
    schema: oneOf(['none', 'governance', 'compliance']),
    fallback: 'none',
  },
  objectLockDays: { rule: 'an integer from 1 to 36500', schema: integer(1, 36_500), fallback: 30 },
  noncurrentExpiryDays: { rule: 'an integer from 1 to 3650', schema: integer(1, 3650), fallback: 90 },
  transitionClass: {
    rule: 'one of none, INTELLIGENT_TIERING, GLACIER_IR',
    schema: oneOf(['none', 'INTELLIGENT_TIERING', 'GLACIER_IR']),
    fallback: 'INTELLIGENT_TIERING',
  },
  transitionDays: { rule: 'an integer from 0 to 3650', schema: integer(0, 3650), fallback: 0 },
  noSyncAlarmHours: { rule: 'an integer from 1 to 168', schema: integer(1, 168), fallback: 12 },
  queueAgeAlarmHours: { rule: 'an integer from 1 to 336', schema: integer(1, 336), fallback: 12 },
  logRetentionDays: {
    rule: `one of the CloudWatch Logs retention periods (${LOG_RETENTION_DAYS.join(', ')})`,
    schema: integer(1, 3653).refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d)),
    fallback: 30,
  },
  icloudEndpoint: { rule: 'one of apple, apple-cn', schema: oneOf(['apple', 'apple-cn']), fallback: 'apple' },
  sessionAdminArns: {
    rule: 'a comma-separated list of IAM principal ARNs (arn:aws:iam::<account>:role/<name>, wildcards allowed)',
    schema: arnList,
    fallback: [],
  },
};

/** `scheduleMinutes` -> `ICLOUD_S3_SCHEDULE_MINUTES`. */
export function envNameOf(key: keyof InfraConfig): string {
  return `ICLOUD_S3_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `scheduleMinutes` -> `icloudS3:scheduleMinutes`. */
export function contextKeyOf(key: keyof InfraConfig): string {
  return `${CONTEXT_PREFIX}${key}`;
}

const fixHint = (key: keyof InfraConfig) => `set it in cdk.json context or ${envNameOf(key)}`;

/**
 * Reads every setting from the environment (`ICLOUD_S3_*`, wins) or CDK context (`icloudS3:*`),
 * falls back to the documented default, validates, and returns a frozen config. Throws one
 * `InfraConfigError` naming every invalid setting, its rule, the value given, and where to fix it.
 */
export function loadInfraConfig(readContext: ContextReader, env: NodeJS.ProcessEnv): InfraConfig {
  const problems: string[] = [];
  const explicit = new Set<keyof InfraConfig>();
  const values: Record<string, unknown> = {};

  for (const key of Object.keys(SETTINGS) as (keyof InfraConfig)[]) {
    const setting: Setting<keyof InfraConfig> = SETTINGS[key];
    const fromEnv = env[envNameOf(key)];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : readContext(contextKeyOf(key));
    if (raw === undefined || raw === null || raw === '') {
      values[key] = setting.fallback;
      continue;
    }
    explicit.add(key);
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      problems.push(
        `${contextKeyOf(key)} must be ${setting.rule} (got ${JSON.stringify(raw)}); ${fixHint(key)}`,
      );
    }
  }
  if (problems.length > 0) throw new InfraConfigError(problems);

  const config = values as unknown as InfraConfig;
  problems.push(...crossChecks(config, explicit));
  if (problems.length > 0) throw new InfraConfigError(problems);
  return Object.freeze(config);
}

function crossChecks(config: InfraConfig, explicit: ReadonlySet<keyof InfraConfig>): string[] {
  const problems: string[] = [];
  const minimumNoSyncHours = Math.ceil((2 * config.scheduleMinutes) / 60);
  if (config.noSyncAlarmHours < minimumNoSyncHours) {
    problems.push(
      `${contextKeyOf('noSyncAlarmHours')} must cover at least two runs: with ${contextKeyOf('scheduleMinutes')} = ` +
        `${config.scheduleMinutes} that is at least ${minimumNoSyncHours} (got ${config.noSyncAlarmHours}); ` +
        `${fixHint('noSyncAlarmHours')}`,
    );
  }
  if (config.objectLockMode === 'none' && explicit.has('objectLockDays')) {
    problems.push(
      `${contextKeyOf('objectLockDays')} is set but ${contextKeyOf('objectLockMode')} is "none"; set ` +
        `${contextKeyOf('objectLockMode')} to governance or compliance (${envNameOf('objectLockMode')}), or remove ` +
        `${contextKeyOf('objectLockDays')}`,
    );
  }
  if (config.transitionClass === 'none' && explicit.has('transitionDays')) {
    problems.push(
      `${contextKeyOf('transitionDays')} is set but ${contextKeyOf('transitionClass')} is "none"; set ` +
        `${contextKeyOf('transitionClass')} to INTELLIGENT_TIERING or GLACIER_IR (${envNameOf('transitionClass')}), ` +
        `or remove ${contextKeyOf('transitionDays')}`,
    );
  }
  if (config.objectLockMode === 'compliance' && config.objectLockDays > 3650) {
    // Not an AWS limit, but compliance mode cannot be shortened: guard against a typo that locks for a century.
    problems.push(
      `${contextKeyOf('objectLockDays')} must be at most 3650 in compliance mode, which nobody (not even the ` +
        `account root) can shorten (got ${config.objectLockDays}); ${fixHint('objectLockDays')}`,
    );
  }
  return problems;
}
