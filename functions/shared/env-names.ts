/**
 * Environment variable names shared by the Lambda handlers (which read them through
 * `loadConfig`) and `infra/` (whose constructs set them beside the grant that makes them usable).
 * Values are never secrets: the session lives in Secrets Manager, only its id is here.
 */
export const ENV = {
  /** S3 bucket that holds the archive. */
  archiveBucket: 'ARCHIVE_BUCKET',
  /** DynamoDB table for sync tokens, checkpoints, the manifest, runs and the lock. */
  stateTable: 'STATE_TABLE',
  /** SQS queue URL of the download work queue. */
  workQueueUrl: 'WORK_QUEUE_URL',
  /** SQS queue URL of the work queue's dead-letter queue (the detector redrives it; unset: no redrive). */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** Secrets Manager secret id (name or ARN) that holds the iCloud session. */
  sessionSecretId: 'SESSION_SECRET_ID',
  /** `apple`, `apple-cn`, or a simulator control URL. */
  icloudEndpoint: 'ICLOUD_ENDPOINT',
  /** `keep` (default) or `mirror`. */
  deletePolicy: 'DELETE_POLICY',
  /** Largest share of the archive a mirror run may delete before it refuses (0..1). */
  maxDeleteFraction: 'MAX_DELETE_FRACTION',
  /** Most objects a mirror run may delete before it refuses, whatever the archive's size. */
  maxDeleteCount: 'MAX_DELETE_COUNT',
  /** Which versions to archive, comma-separated (see README). */
  versionPolicy: 'VERSION_POLICY',
  /** `suffix` (default: `IMG_0001_HEVC.MOV`) or `original` (`IMG_0001.MOV`): how a HEIC Live Photo's video is named. */
  liveVideoName: 'LIVE_VIDEO_NAME',
  /** `on` (default) or `off`: archive Shared Albums. */
  sharedAlbums: 'SHARED_ALBUMS',
  /** Least minutes between two Shared Albums listings; 0 (default) lists on every run. */
  sharedAlbumsEveryMinutes: 'SHARED_ALBUMS_EVERY_MINUTES',
  /** `true` writes an XMP sidecar beside each original (docs/archive-layout.md#10-xmp-sidecars); off by default. */
  xmpSidecars: 'XMP_SIDECARS',
  /** Milliseconds of the Lambda deadline a run keeps in reserve to checkpoint. */
  deadlineReserveMs: 'DEADLINE_RESERVE_MS',
  /** Multipart part size in MiB and parallel parts per upload. */
  uploadPartSizeMiB: 'UPLOAD_PART_SIZE_MIB',
  uploadQueueSize: 'UPLOAD_QUEUE_SIZE',
  /**
   * Versions larger than this many MiB are uploaded resumably, across invocations when one is not
   * enough (docs/deploy.md, "Very large videos"); 2048 by default.
   */
  resumableFromMiB: 'RESUMABLE_FROM_MIB',
  /**
   * `true` when the archive bucket has Object Lock with a default retention (`objectLockMode`):
   * S3 then refuses a multipart part without a checksum, so the download workers send a CRC32
   * with every part (S3ArchivingObjectStore `checksumParts`). Unset: `false`.
   */
  archiveObjectLock: 'ARCHIVE_OBJECT_LOCK',
  /**
   * `INTELLIGENT_TIERING` when the bucket's lifecycle moves every object there on day 0
   * (`transitionClass`, `transitionDays: 0`): the handlers write objects in that class at once, no
   * transition to pay. Unset: STANDARD, and the lifecycle rule moves them.
   */
  archiveStorageClass: 'ARCHIVE_STORAGE_CLASS',
  /** CloudWatch metrics namespace and service name (Powertools). */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Handler entry files, relative to the repository root; `infra/` bundles these. */
export const HANDLER_ENTRIES = {
  detectChanges: 'functions/entry/lambda/detect-changes.ts',
  downloadAssets: 'functions/entry/lambda/download-assets.ts',
} as const;

/**
 * Powertools service name of each Lambda function: the `service` dimension of every metric it
 * emits, which the alarms match exactly. The handlers pass these to their Metrics/Logger and
 * `infra/` sets `POWERTOOLS_SERVICE_NAME` to the same value.
 */
export const SERVICE_NAMES = {
  detectChanges: 'detect-changes',
  downloadAssets: 'download-assets',
} as const;

/** Metric names the alarms watch; emitted by the handlers (EMF). */
export const METRICS = {
  namespace: 'IcloudS3',
  syncSucceeded: 'syncSucceeded',
  /** 1 from the run that found a person must sign in (and latched the session): once, not every run. */
  reauthRequired: 'reauthRequired',
  /**
   * 1 from every detector run that stopped on the latch without asking Apple: keeps the sign-in
   * alarm in ALARM (one notification) until `login`, instead of OK a period after the first run.
   */
  signInPending: 'signInPending',
  assetsArchived: 'assetsArchived',
  bytesArchived: 'bytesArchived',
  assetsFailed: 'assetsFailed',
  appleRequests: 'appleRequests',
  trustExpiresInDays: 'trustExpiresInDays',
  /** 1 when the mirror safety stop refused a run (nothing deleted; a person must look). */
  deletionRefused: 'deletionRefused',
  /** A work message the download worker could not read (another version's format): failed, dead-lettered. */
  workMessagesRejected: 'workMessagesRejected',
  /** Dead-lettered work moved back to the work queue for another try (self-healing). */
  workRedriven: 'workRedriven',
  /**
   * Dead-lettered work that failed after every redrive (left in the dead-letter queue for a
   * person), and records CloudKit would not serve through every lookup detection retried.
   */
  workGivenUp: 'workGivenUp',
  /**
   * 1 from a download worker that found the bucket has Object Lock the stack was not told of (S3
   * refused a part without a digest): once per worker process, which sends digests from then on.
   */
  objectLockUndeclared: 'objectLockUndeclared',
} as const;

/** The key of the staging tags below (one key, two values). */
const STAGING_TAG_KEY = 'icloud-s3-staging';

/**
 * Object tag on the first version of a multipart object. S3 fixes metadata when the upload starts,
 * before the MD5 rclone needs is known, so the worker rewrites the object once (a same-key copy
 * with `md5chksum`); on a versioned bucket that leaves the first version behind as noncurrent.
 * The copy drops the tag, and a lifecycle rule expires noncurrent versions carrying it after a
 * day, so the archive does not pay twice for its large files for months.
 */
export const STAGING_TAG = { key: STAGING_TAG_KEY, value: '1' } as const;

/**
 * How long SQS keeps a message, on the work queue and on its dead-letter queue alike (14 days,
 * SQS's maximum; infra/work-queue.ts sets both from it), counted from its last send: a redrive is
 * a new send, the move to the dead-letter queue is not. The redrive pass moves what would wait
 * longer to the failed photos' retry list (functions/app/redrive-dead-letters.ts).
 */
export const WORK_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * The largest object one CopyObject can rewrite (S3's limit, 5 GiB). Objects up to it always got
 * the metadata copy, so only there is a version tagged `STAGING_TAG` certainly a staged duplicate:
 * the lifecycle rule for the tag stops at this size, because versions of this project before the
 * multipart copy left objects over it current with the tag (infra/archive-bucket.ts).
 */
export const COPY_OBJECT_MAX_BYTES = 5_368_709_120; // 5 GiB

/**
 * The staging tag of an upload over `COPY_OBJECT_MAX_BYTES`, superseded by a multipart copy. Its
 * own value, because `STAGING_TAG` over that size also marks videos earlier versions archived
 * without a copy, which must keep the undo window (infra/archive-bucket.ts).
 */
export const MULTIPART_COPY_STAGING_TAG = { key: STAGING_TAG_KEY, value: 'multipart-copy' } as const;

/** The tag a multipart upload of `size` bytes starts with, until its copy drops it. */
export function stagingTagFor(
  size: number,
  maxCopyBytes: number = COPY_OBJECT_MAX_BYTES,
): typeof STAGING_TAG | typeof MULTIPART_COPY_STAGING_TAG {
  return size > maxCopyBytes ? MULTIPART_COPY_STAGING_TAG : STAGING_TAG;
}

/**
 * The default stack name (infra's default `stackName` setting). Here, beside the other names,
 * so the CLI's option help can print it without loading the AWS SDK (issue 12).
 */
export const DEFAULT_STACK_NAME = 'IcloudS3';

/**
 * Where the album views live in the bucket (functions/app/album-views.ts). The detector may write
 * and delete under this prefix only (infra/archive-bucket.ts `grantAlbumViews`).
 */
export const ALBUM_VIEWS_PREFIX = 'albums/';
