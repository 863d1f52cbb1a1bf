/**
 * Observes the fsyncs the code under test makes, without mocking a module: every FileHandle shares
 * one prototype, so a spy on its `sync` sees each fsync and whether it was on a file or a directory.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { type MockInstance, vi } from 'vitest';

export interface FileSyncs {
  /** 'file' or 'dir', one per fsync, in order. */
  readonly kinds: Array<'file' | 'dir'>;
  readonly spy: MockInstance;
}

/** Starts watching fsyncs; `vi.restoreAllMocks()` stops. `scratchDir` must exist. */
export async function watchFileSyncs(scratchDir: string): Promise<FileSyncs> {
  const probe = await open(path.join(scratchDir, '.sync-probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
  await probe.close();
  await rm(path.join(scratchDir, '.sync-probe'));
  const original = prototype.sync;
  const kinds: Array<'file' | 'dir'> = [];
  const spy = vi.spyOn(prototype, 'sync').mockImplementation(async function (this: typeof probe) {
    kinds.push((await this.stat()).isDirectory() ? 'dir' : 'file');
    return original.call(this);
  });
  return { kinds, spy };
}
