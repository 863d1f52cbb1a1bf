/**
 * Replaces a file so that after a power loss or a kernel crash it holds either the old content or
 * the new one, never an empty or short file: a rename alone is not enough on file systems without
 * ext4's rename heuristics (XFS, btrfs, NFS, APFS). The new content goes to a fresh temporary file
 * in the same directory (exclusive create, the caller's mode), is fsynced, renamed over the target,
 * and the directory is fsynced so the rename itself survives. Imports only Node built-ins: an idle
 * CLI run loads it.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';

/** The file operations used, injectable so tests can observe their order or make one fail. */
export type ReplaceFileFs = Pick<typeof nodeFs, 'open' | 'rename' | 'rm'>;

export interface ReplaceFileOptions {
  /** The new file's mode (e.g. 0o600 for secrets), set exactly whatever the umask. */
  readonly mode?: number;
  readonly fs?: ReplaceFileFs;
}

/** Platforms that refuse to fsync a directory (Windows) answer one of these: nothing to do there. */
const UNSUPPORTED_DIRECTORY_SYNC = new Set(['EISDIR', 'EINVAL', 'EPERM']);

export async function replaceFileDurably(
  file: string,
  data: string | Uint8Array,
  options: ReplaceFileOptions = {},
): Promise<void> {
  const fs = options.fs ?? nodeFs;
  const dir = path.dirname(file);
  const temporary = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temporary, 'wx', options.mode ?? 0o666);
  try {
    try {
      await handle.writeFile(data);
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(fs, dir);
}

async function syncDirectory(fs: ReplaceFileFs, dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && UNSUPPORTED_DIRECTORY_SYNC.has(code)) return;
    throw error;
  }
}
