/**
 * Makes a local S3 data directory self-consistent before s3rver serves it. A process killed
 * mid-write by an older version (or a disk that lost its last writes) can leave files s3rver
 * cannot read: a 0-byte or truncated `…_S3rver_metadata.json` (s3rver then fails every list and
 * read of the bucket with a 500, which the SDK reports as "UnknownError"), an object file with no
 * metadata beside it (s3rver writes the object first, so that object may be truncated), or a
 * half-written `.md5`. What it does, per case:
 *
 * - object whose metadata is missing, empty or not JSON: the object is dropped. Its metadata
 *   (modification time, `md5chksum`, the CloudKit fields) cannot be derived from the bytes, and
 *   the bytes themselves may be cut short. The manifest is written only after a put succeeds,
 *   so an object a crash interrupted is not in it and the next sync archives it again; one the
 *   manifest already lists (its metadata lost later) is reported missing by `verify`;
 * - `.md5` that is not an ETag the store writes (32 hex digits, then `-<parts>` for a multipart
 *   upload's, s3-etags.ts): removed (s3rver recomputes it from the object, as an MD5);
 * - metadata or tags without an object, and temporary files of an interrupted atomic write
 *   (`atomic-s3rver-store.ts`): removed; nothing could read them, and tags left there would
 *   not be a later object's (a dropped object's tags go this way too).
 *
 * Multipart uploads in progress (`._S3rver_uploads`) are left alone: the client that started one
 * completes or aborts it.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARK } from './atomic-s3rver-store.ts';
import { isStoredEtag } from './s3-etags.ts';

const OBJECT_SUFFIX = '._S3rver_object';
const MD5_SUFFIX = '._S3rver_object.md5';
const METADATA_SUFFIX = '._S3rver_metadata.json';
const UPLOADS_DIRECTORY = '._S3rver_uploads';
/** An object's tag set (s3-object-tagging.ts), written just before its object file. */
const TAGGING_SUFFIX = '._S3rver_tagging.xml';

/**
 * Set in the s3rver child's environment when it must not repair the folder (`startS3Server`'s
 * `repair: false`, for `local serve`).
 */
export const S3RVER_NO_REPAIR = 'ICLOUD_S3_S3RVER_NO_REPAIR';

export type LocalS3RepairAction =
  | 'droppedObject'
  | 'removedMd5'
  | 'removedOrphanMetadata'
  | 'removedPartialWrite';

export interface LocalS3Repair {
  readonly action: LocalS3RepairAction;
  readonly bucket: string;
  /** The object key (for a partial write, the file it was replacing, relative to the bucket). */
  readonly key: string;
  readonly reason: string;
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !path.relative(directory, file).split(path.sep).includes(UPLOADS_DIRECTORY));
}

/** Why the metadata file at `file` cannot be used, or undefined when it can. */
async function metadataProblem(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'it has no metadata file';
    throw error;
  }
  if (text.length === 0) return 'its metadata file is empty';
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return 'its metadata file is not a JSON object';
  } catch {
    return `its metadata file is cut short or not JSON (${text.length} bytes)`;
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Repairs every bucket under `directory` (s3rver's root) and says what it changed. */
export async function repairLocalS3Store(directory: string): Promise<LocalS3Repair[]> {
  const repairs: LocalS3Repair[] = [];
  const buckets = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const bucketEntry of buckets) {
    if (!bucketEntry.isDirectory()) continue;
    const bucket = bucketEntry.name;
    const bucketPath = path.join(directory, bucket);
    const keyOf = (file: string, suffix: string) =>
      path.relative(bucketPath, file).slice(0, -suffix.length).split(path.sep).join('/');
    for (const file of await filesUnder(bucketPath)) {
      const base = path.basename(file);
      if (base.includes(TEMP_MARK)) {
        await rm(file, { force: true });
        const replaced = file.slice(0, file.lastIndexOf(TEMP_MARK));
        repairs.push({
          action: 'removedPartialWrite',
          bucket,
          key: path.relative(bucketPath, replaced).split(path.sep).join('/'),
          reason: 'a write was interrupted before it completed',
        });
      } else if (base.endsWith(OBJECT_SUFFIX)) {
        const stem = file.slice(0, -OBJECT_SUFFIX.length);
        const problem = await metadataProblem(`${stem}${METADATA_SUFFIX}`);
        if (problem === undefined) continue;
        await Promise.all(
          [file, `${stem}${MD5_SUFFIX}`, `${stem}${METADATA_SUFFIX}`, `${stem}${TAGGING_SUFFIX}`].map((f) =>
            rm(f, { force: true }),
          ),
        );
        repairs.push({ action: 'droppedObject', bucket, key: keyOf(file, OBJECT_SUFFIX), reason: problem });
      } else if (base.endsWith(MD5_SUFFIX)) {
        if (!(await exists(file))) continue; // its object was just dropped
        const md5 = await readFile(file, 'utf8');
        if (isStoredEtag(md5)) continue;
        await rm(file, { force: true });
        repairs.push({
          action: 'removedMd5',
          bucket,
          key: keyOf(file, MD5_SUFFIX),
          reason: 'its stored MD5 was cut short (recomputed from the object)',
        });
      } else if (base.endsWith(METADATA_SUFFIX) || base.endsWith(TAGGING_SUFFIX)) {
        const suffix = base.endsWith(METADATA_SUFFIX) ? METADATA_SUFFIX : TAGGING_SUFFIX;
        const stem = file.slice(0, -suffix.length);
        if (!(await exists(file)) || (await exists(`${stem}${OBJECT_SUFFIX}`))) continue;
        await rm(file, { force: true });
        repairs.push({
          action: 'removedOrphanMetadata',
          bucket,
          key: keyOf(file, suffix),
          reason: suffix === METADATA_SUFFIX ? 'metadata without an object' : 'tags without an object',
        });
      }
    }
  }
  return repairs;
}

/** One line for a person, naming the key; undefined for repairs nobody needs to hear about. */
export function describeRepair(repair: LocalS3Repair): string | undefined {
  if (repair.action !== 'droppedObject') return undefined;
  return (
    `local S3: dropped ${repair.bucket}/${repair.key} because ${repair.reason} (left by a crash). ` +
    'The next sync archives it again if it was not yet recorded as archived; icloud-s3 verify lists it as missing if it was.'
  );
}
