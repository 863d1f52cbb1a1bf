/**
 * Replacing a file durably (functions/shared/replace-file.ts): the new content is fsynced before the
 * rename and the directory after it, so a power loss leaves the old file or the new one, never an
 * empty one; a failed write leaves the old file and no temporary file behind.
 */
import * as nodeFs from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ReplaceFileFs, replaceFileDurably } from '#shared/replace-file.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const freshDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-replace-'));
  dirs.push(dir);
  return dir;
};

/** The real file system, recording each operation (and on which path) in order. */
function recordingFs(log: string[], failWrite = false): ReplaceFileFs {
  return {
    open: (async (file: string, flags?: string, mode?: number) => {
      const handle = await nodeFs.open(file, flags, mode);
      const name = path.basename(file);
      log.push(`open ${name} ${flags}`);
      return new Proxy(handle, {
        get(target, key) {
          const value = Reflect.get(target, key, target);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            log.push(`${String(key)} ${name}`);
            if (key === 'writeFile' && failWrite)
              throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
            return value.apply(target, args);
          };
        },
      });
    }) as ReplaceFileFs['open'],
    rename: async (from, to) => {
      log.push(`rename ${path.basename(String(from))} ${path.basename(String(to))}`);
      return nodeFs.rename(from, to);
    },
    rm: async (file, options) => {
      log.push(`rm ${path.basename(String(file))}`);
      return nodeFs.rm(file, options);
    },
  };
}

describe('replaceFileDurably', () => {
  it('writes a fresh temporary file, fsyncs it, renames it over the target, then fsyncs the directory', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    await writeFile(file, 'old');
    const log: string[] = [];
    await replaceFileDurably(file, 'new', { fs: recordingFs(log) });

    expect(await readFile(file, 'utf8')).toBe('new');
    const temporary = log[0]?.split(' ')[1] ?? '';
    expect(temporary).toMatch(/^\.state\.json\.[0-9a-f]+\.tmp$/);
    expect(log).toEqual([
      `open ${temporary} wx`,
      `writeFile ${temporary}`,
      `sync ${temporary}`,
      `close ${temporary}`,
      `rename ${temporary} state.json`,
      `open ${path.basename(dir)} r`,
      `sync ${path.basename(dir)}`,
      `close ${path.basename(dir)}`,
    ]);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it("gives the file the caller's mode exactly", async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'secrets.json');
    await writeFile(file, 'old', { mode: 0o644 });
    await replaceFileDurably(file, 'new', { mode: 0o600 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the old file and leaves no temporary file when the write fails', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    await writeFile(file, 'old');
    const log: string[] = [];
    await expect(replaceFileDurably(file, 'new', { fs: recordingFs(log, true) })).rejects.toThrow(
      'disk full',
    );

    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(log.some((entry) => entry.startsWith('rename'))).toBe(false);
  });

  it('never writes through an existing temporary name (exclusive create)', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    const log: string[] = [];
    await replaceFileDurably(file, 'new', { fs: recordingFs(log) });
    expect(log[0]).toMatch(/ wx$/);
  });

  it('accepts a platform that refuses to fsync a directory', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    const fs: ReplaceFileFs = {
      ...nodeFs,
      open: (async (target: string, flags?: string, mode?: number) => {
        if (target === dir)
          throw Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' });
        return nodeFs.open(target, flags, mode);
      }) as ReplaceFileFs['open'],
    };
    await replaceFileDurably(file, 'new', { fs });
    expect(await readFile(file, 'utf8')).toBe('new');
  });
});
