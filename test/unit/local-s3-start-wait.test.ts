/**
 * How long `startS3Server` waits for its s3rver child: as long as the child keeps saying it is
 * still starting (a loaded machine, or a large archive to check), and only a long silence
 * fails, with a message naming the folder and what to do. A fixed 20 s limit once failed a
 * start on a busy machine.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitForS3rverStart } from '#local/servers/s3-server.ts';

/** A child that says "still starting" every `everyMs` for `startingMs`, then sends its port. */
function slowChild(options: { everyMs: number; startingMs: number; silent?: boolean }) {
  const child = new EventEmitter();
  const started = Date.now();
  const beat = setInterval(() => {
    if (Date.now() - started >= options.startingMs) {
      clearInterval(beat);
      if (!options.silent) child.emit('message', { port: 4567, repairs: [] });
      return;
    }
    if (!options.silent) child.emit('message', { starting: true });
  }, options.everyMs);
  return { child, stop: () => clearInterval(beat) };
}

describe('waiting for the local S3 to start', () => {
  it('waits past the silence limit while the child keeps signalling it is starting', async () => {
    const { child, stop } = slowChild({ everyMs: 20, startingMs: 400 });
    try {
      const started = await waitForS3rverStart(child, { directory: '/data/s3', silenceLimitMs: 150 });
      expect(started).toEqual({ port: 4567, repairs: [] });
    } finally {
      stop();
    }
  });

  it('gives up after a silence, naming the folder and what to do', async () => {
    const { child, stop } = slowChild({ everyMs: 20, startingMs: 10_000, silent: true });
    try {
      await expect(waitForS3rverStart(child, { directory: '/data/s3', silenceLimitMs: 100 })).rejects.toThrow(
        /the local S3 server for \/data\/s3 gave no sign of life for 0\.1 s while starting.*run the command again/,
      );
    } finally {
      stop();
    }
  });

  it('reports a child that exits before listening', async () => {
    const child = new EventEmitter();
    setTimeout(() => child.emit('exit', 1), 10);
    await expect(waitForS3rverStart(child, { directory: '/data/s3', silenceLimitMs: 1000 })).rejects.toThrow(
      's3rver exited with code 1 before listening',
    );
  });

  it('is generous by default: two minutes of silence', async () => {
    const { DEFAULT_START_SILENCE_MS } = await import('#local/servers/s3-server.ts');
    expect(DEFAULT_START_SILENCE_MS).toBeGreaterThanOrEqual(120_000);
  });
});
