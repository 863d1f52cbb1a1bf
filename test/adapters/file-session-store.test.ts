/**
 * The CLI's session file runs the SessionStore contract: two stores on one path play two processes
 * (`icloud-s3 login` and a `sync` writing back rotated cookies) racing on the same file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import { describeSessionStoreContract } from '#test/fakes/contracts/session-store-contract.ts';

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-file-session-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describeSessionStoreContract('FileSessionStore', async () => {
  // A directory that does not exist yet: the store creates it (0700) on the first save.
  const path = join(dir, `config-${++files}`, 'icloud-s3', 'session.json');
  return [new FileSessionStore(path), new FileSessionStore(path)] as const;
});
