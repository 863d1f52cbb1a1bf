import { type CfnElement, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ALBUM_VIEWS_PREFIX,
  COPY_OBJECT_MAX_BYTES,
  ENV,
  MULTIPART_COPY_STAGING_TAG,
  STAGING_TAG,
} from '../functions/shared/env-names.ts';
import type { ObjectLockMode, TransitionClass } from './config.ts';
import type { PipelineFunction } from './pipeline-function.ts';

/** Days after which S3 aborts a multipart upload a killed worker left behind (its parts cost storage). */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 3;
/** Days the archive's server access logs are kept. */
export const ACCESS_LOG_DAYS = 365;

export interface ArchiveBucketProps {
  readonly kmsEncryption: boolean;
  readonly objectLockMode: ObjectLockMode;
  readonly objectLockDays: number;
  readonly noncurrentExpiryDays: number;
  readonly transitionClass: TransitionClass;
  readonly transitionDays: number;
}

/**
 * The archive: every photo and video, as plain objects rclone can mirror. Private (Block Public
 * Access, TLS-only), encrypted (SSE-S3, or SSE-KMS with a bucket key), versioned so an overwrite
 * or delete is recoverable, optionally under Object Lock (decided when the bucket is created),
 * with its server access logs in a second bucket, and retained when the stack is deleted.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  readonly encryptionKey: Key | undefined;
  /** The class the handlers write objects in (`ARCHIVE_STORAGE_CLASS`), when the rule's is day 0. */
  private readonly writeClass: 'INTELLIGENT_TIERING' | undefined;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    this.writeClass =
      props.transitionClass === 'INTELLIGENT_TIERING' && props.transitionDays === 0
        ? 'INTELLIGENT_TIERING'
        : undefined;

    // Server access logs record who read, wrote or deleted what: the evidence after a leaked key
    // or a ransomware run. They need their own bucket (an Object Lock bucket cannot receive them),
    // encrypted with SSE-S3 (the only encryption log delivery supports).
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_DAYS) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.encryptionKey = props.kmsEncryption
      ? new Key(this, 'Key', {
          description: 'Encrypts the icloud-s3 photo archive (SSE-KMS with an S3 bucket key)',
          enableKeyRotation: true,
          // Deleting this key makes every archived object unreadable.
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : undefined;

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: this.encryptionKey ? BucketEncryption.KMS : BucketEncryption.S3_MANAGED,
      encryptionKey: this.encryptionKey,
      // One KMS call per bucket key instead of per object: the difference between cents and dollars.
      bucketKeyEnabled: this.encryptionKey ? true : undefined,
      versioned: true,
      objectLockEnabled: props.objectLockMode === 'none' ? undefined : true,
      objectLockDefaultRetention: objectLockRetention(props),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: lifecycleRules(props),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * What a download worker needs: read (HEAD to skip what is archived, the copy source when
   * `md5chksum` is added after a multipart upload: CopyObject, or UploadPartCopy for a video over
   * CopyObject's 5 GiB), write (single and multipart PUT, the copy, each part copy), tag (a
   * multipart object's first version carries `STAGING_TAG`, which the copy clears; a multipart
   * copy carries no tag),
   * abort its own multipart uploads and list their parts (a resumed upload), and list (so a missing
   * key is a 404, not a 403).
   * Delete only under `mirror` (`deletes`), where the worker removes what iCloud purged. Under
   * `keep` nothing is ever deleted: the one other DeleteObject the worker tries (taking back a
   * multipart object whose metadata copy then failed; conditional, `If-Match` on its ETag, which
   * S3 authorizes with s3:GetObject too) is refused and the staged version stays,
   * which is harmless: it lacks `md5chksum`, so the retry never adopts it and supersedes it, and
   * the staging rule expires it a day later. A copy whose ETag shows S3 stored other bytes than
   * were sent is staged again by one more CopyObject instead (up-front metadata, the staging tag:
   * s3:GetObject, s3:PutObject, s3:PutObjectTagging), so it lacks `md5chksum` too.
   * In a versioned bucket DeleteObject without a version id only adds a delete marker: the
   * data stays recoverable until the noncurrent-version rule (and any Object Lock) lets it go.
   * Permanent deletion of a version (`s3:DeleteObjectVersion`) is never granted.
   */
  grantArchiveWrites(fn: PipelineFunction, options: { readonly deletes: boolean }): void {
    const objectActions = [
      's3:GetObject',
      's3:PutObject',
      's3:PutObjectTagging',
      's3:AbortMultipartUpload',
      // ListParts: a video too long for one invocation checks the parts S3 kept before it goes on.
      's3:ListMultipartUploadParts',
      ...(options.deletes ? ['s3:DeleteObject'] : []),
    ];
    fn.addToRolePolicy(
      new PolicyStatement({ actions: objectActions, resources: [this.bucket.arnForObjects('*')] }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.grantKey(fn, ['kms:GenerateDataKey', 'kms:Decrypt']);
    this.nameIn(fn);
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/*]`,
      reason:
        'Objects are keyed by capture date and asset id, unknown in advance; the wildcard covers keys in this one bucket only.',
    });
  }

  /**
   * What the catalog's single writer (the change detector) needs (docs/archive-layout.md#9-the-catalog):
   * read and write the catalog (`catalog/*`), delete only the journal objects it has folded
   * (`catalog/journal/*`: under `keep` no archived object can be deleted), write XMP sidecars
   * (`library/*.xmp`) when they are on, and list (the journal, and a missing key is a 404).
   */
  grantCatalogUpkeep(fn: PipelineFunction, options: { readonly xmpSidecars: boolean }): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [
          this.bucket.arnForObjects('catalog/*'),
          ...(options.xmpSidecars ? [this.bucket.arnForObjects('library/*.xmp')] : []),
        ],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:DeleteObject'],
        resources: [this.bucket.arnForObjects('catalog/journal/*')],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.grantKey(fn, ['kms:GenerateDataKey', 'kms:Decrypt']);
    this.nameIn(fn);
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/catalog/*]`,
      reason:
        'The catalog is 1,024 shards and a journal whose names are not known in advance, all under catalog/.',
    });
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/catalog/journal/*]`,
      reason: 'Journal objects are named by time and a random id; only they may be deleted, once folded.',
    });
    if (options.xmpSidecars)
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/library/*.xmp]`,
        reason:
          'A sidecar sits beside each original, whose key is unknown in advance; only .xmp keys are writable.',
      });
  }

  /**
   * Writes and removes the album views (functions/app/album-views.ts) and nothing else: the
   * detector writes them after each check, under `albums/` only, so it can never touch a photo.
   */
  grantAlbumViews(fn: PipelineFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${ALBUM_VIEWS_PREFIX}*`)],
      }),
    );
    this.grantKey(fn, ['kms:GenerateDataKey']);
    this.nameIn(fn);
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${ALBUM_VIEWS_PREFIX}*]`,
      reason:
        'Album views are named after albums, unknown in advance; the wildcard covers the albums/ prefix of this one bucket only.',
    });
  }

  /**
   * Only names the bucket in the function's env, granting nothing: the shared handler config
   * (functions/shared/config.ts) requires every resource name in every handler.
   */
  nameIn(fn: PipelineFunction): void {
    fn.addEnvironment(ENV.archiveBucket, this.bucket.bucketName);
    // Written in Intelligent-Tiering at once rather than moved there on day 0 by the rule: a
    // transition costs twice the PUT. GLACIER_IR is left to the rule: an object under 128 KiB
    // written there is billed as 128 KiB, and the rule does not move those.
    if (this.writeClass !== undefined) fn.addEnvironment(ENV.archiveStorageClass, this.writeClass);
  }

  /**
   * A managed policy for the person (or NAS) mirroring the archive with rclone: list, read, and
   * read old versions, nothing else. Attach it to the IAM user or role whose keys rclone uses.
   */
  createReaderPolicy(id: string): ManagedPolicy {
    const policy = new ManagedPolicy(this, id, {
      description: 'Read-only access to the icloud-s3 archive for rclone (list, get, get old versions)',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resources: [this.bucket.bucketArn],
        }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [this.bucket.arnForObjects('*')],
        }),
        ...(this.encryptionKey
          ? [new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.encryptionKey.keyArn] })]
          : []),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/*]`,
      reason: 'rclone mirrors every object of this one bucket; the wildcard covers keys in this bucket only.',
    });
    return policy;
  }

  private grantKey(fn: PipelineFunction, actions: string[]): void {
    if (!this.encryptionKey) return;
    fn.addToRolePolicy(new PolicyStatement({ actions, resources: [this.encryptionKey.keyArn] }));
  }

  private bucketLogicalId(): string {
    return this.bucket.stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
  }
}

function objectLockRetention(props: ArchiveBucketProps): ObjectLockRetention | undefined {
  const days = Duration.days(props.objectLockDays);
  switch (props.objectLockMode) {
    case 'none':
      return undefined;
    case 'governance':
      return ObjectLockRetention.governance(days);
    case 'compliance':
      return ObjectLockRetention.compliance(days);
  }
}

function lifecycleRules(props: ArchiveBucketProps): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    {
      id: 'abort-incomplete-multipart-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
    },
    {
      // The first version of a multipart object up to 5 GiB, superseded by the CopyObject that
      // adds `md5chksum`: a byte-for-byte duplicate, not an undo buffer (see STAGING_TAG). Only up
      // to that size: earlier versions of the workers archived larger videos without any copy, so
      // their archived (current) version kept this tag, and once deleted or overwritten it must
      // stay for the undo window like any other version, not a day.
      id: 'expire-superseded-staging-versions',
      tagFilters: { [STAGING_TAG.key]: STAGING_TAG.value },
      objectSizeLessThan: COPY_OBJECT_MAX_BYTES + 1,
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      // The same for an upload over 5 GiB, superseded by a multipart copy; its own tag value, so
      // the videos archived over 5 GiB with `STAGING_TAG` before the copy existed are not caught.
      id: 'expire-superseded-multipart-copy-staging-versions',
      tagFilters: { [MULTIPART_COPY_STAGING_TAG.key]: MULTIPART_COPY_STAGING_TAG.value },
      noncurrentVersionExpiration: Duration.days(1),
    },
    {
      // Old versions (overwritten or deleted objects) are the undo buffer; after this long they go.
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(props.noncurrentExpiryDays),
      expiredObjectDeleteMarker: true,
    },
  ];
  if (props.transitionClass !== 'none') {
    rules.push({
      id: `transition-to-${props.transitionClass.toLowerCase().replace('_', '-')}`,
      transitions: [
        {
          storageClass:
            props.transitionClass === 'GLACIER_IR'
              ? StorageClass.GLACIER_INSTANT_RETRIEVAL
              : StorageClass.INTELLIGENT_TIERING,
          transitionAfter: Duration.days(props.transitionDays),
        },
      ],
    });
  }
  return rules;
}
