/**
 * The CLI's session file runs the SessionStore contract: two stores on one path play two processes
 * (`icloud-s3 login` and a `sync` writing back rotated cookies) racing on the same file.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { describeSessionStoreContract } from '#test/fakes/contracts/session-store-contract.ts';
import { watchFileSyncs } from '#test/helpers/file-syncs.ts';

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-file-session-'));
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describeSessionStoreContract('FileSessionStore', async () => {
  // A directory that does not exist yet: the store creates it (0700) on the first save.
  const path = join(dir, `config-${++files}`, 'icloud-s3', 'session.json');
  return [new FileSessionStore(path), new FileSessionStore(path)] as const;
});

describe('FileSessionStore on disk', () => {
  // fsyncing the file is not enough: the rename lives in the directory, fsynced after it.
  it('fsyncs the session file before the rename and its directory after', async () => {
    const path = join(dir, `config-${++files}`, 'session.json');
    const store = new FileSessionStore(path);
    await store.save('first');
    const syncs = await watchFileSyncs(dir);

    await store.save('second');

    expect(syncs.kinds).toEqual(['file', 'dir']);
    expect(await readFile(path, 'utf8')).toBe('second');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(path, '..'))).toEqual(['session.json']);
  });
});
