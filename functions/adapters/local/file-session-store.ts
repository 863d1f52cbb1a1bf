/**
 * `SessionStore` on a local file (the CLI's session): mode 0600 in a 0700 directory, written
 * atomically and durably (temp file + fsync + rename + fsync of the directory), revision =
 * SHA-256 of the content, and compare-and-set under a short-lived lock file so two processes never
 * overwrite each other's newer session.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConflictError } from '#domain/errors.ts';
import type { SessionStore, StoredSession } from '#ports/session-store.ts';
import { replaceFileDurably } from '#shared/replace-file.ts';

const LOCK_WAIT_MS = 5_000;
const LOCK_STALE_MS = 30_000;

/** `$XDG_CONFIG_HOME/icloud-s3/session.json`, else `~/.config/icloud-s3/session.json`. */
export function defaultSessionPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME']?.trim() || join(homedir(), '.config');
  return join(base, 'icloud-s3', 'session.json');
}

const revisionOf = (content: string): string => createHash('sha256').update(content).digest('hex');

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';

export class FileSessionStore implements SessionStore {
  readonly #path: string;

  constructor(path: string = defaultSessionPath()) {
    this.#path = path;
  }

  get path(): string {
    return this.#path;
  }

  async load(): Promise<StoredSession | undefined> {
    try {
      const document = await readFile(this.#path, 'utf8');
      return { document, revision: revisionOf(document) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async save(document: string, expectedRevision?: string): Promise<{ readonly revision: string }> {
    const dir = dirname(this.#path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const release = await this.#lock();
    try {
      if (expectedRevision !== undefined) {
        const current = await this.load();
        if (current?.revision !== expectedRevision) {
          throw new ConflictError(`the session at ${this.describe()} changed since it was read`);
        }
      }
      await replaceFileDurably(this.#path, document, { mode: 0o600 });
      return { revision: revisionOf(document) };
    } finally {
      await release();
    }
  }

  describe(): string {
    const home = homedir();
    return this.#path.startsWith(`${home}/`) ? `~${this.#path.slice(home.length)}` : this.#path;
  }

  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.#path}.lock`;
    const started = Date.now();
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
        const age = await stat(lockPath).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        // A lock left by a crashed process must not block forever.
        if (age > LOCK_STALE_MS) await rm(lockPath, { force: true });
        else if (Date.now() - started > LOCK_WAIT_MS) {
          throw new ConflictError(`another icloud-s3 process is writing ${this.describe()}`);
        } else await new Promise((r) => setTimeout(r, 25));
      }
    }
  }
}
