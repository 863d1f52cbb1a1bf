/**
 * `icloud-s3 debug records FILE | head`: when the reader goes away, writing to the pipe fails with
 * EPIPE. That is the reader's choice, not our failure: stop quietly instead of dying with a stack.
 */
const guarded = new WeakSet<NodeJS.WriteStream>();

export function exitQuietlyOnBrokenPipe(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    // main() may run more than once in a process (tests): one listener per stream is enough.
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
