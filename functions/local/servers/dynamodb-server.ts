/**
 * Local DynamoDB: dynalite in-process, in memory or on LevelDB under `directory`. It has no
 * transactions, TTL API or PartiQL, which is why the state store uses none of them.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import dynalite from 'dynalite';
import { closeServer, listenOnLoopback } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens `directory` once with the very LevelDB dynalite will use (its own `level` dependency) and
 * closes it again. dynalite opens it in the background and, when that fails (a garbage `CURRENT`
 * file, a damaged manifest), crashes on the first request with "Database is not open" far from
 * any explanation; checking first turns that into an error that names the folder.
 */
async function assertOpens(directory: string): Promise<void> {
  const fail = (cause: unknown): never => {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `the local DynamoDB folder ${directory} cannot be opened (${reason}): it is damaged or holds something else. ` +
        'Move it aside (e.g. rename it to dynamodb.broken) and run the command again: the next sync records ' +
        "the archive's state afresh and adopts the photos it finds already archived instead of downloading them again.",
      { cause },
    );
  };
  await mkdir(directory, { recursive: true }).catch(fail);
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as {
    Level: new (location: string, options: { valueEncoding: string }) => LevelDatabase;
  };
  const db = new Level(directory, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (error) {
    // LevelDB's own reason is on the cause (`Corruption: ...`); the wrapper says "not open".
    fail((error as { cause?: unknown }).cause ?? error);
  }
  await db.close();
}

export async function startDynamoDbServer(options: { directory?: string } = {}): Promise<LocalServer> {
  if (options.directory !== undefined) await assertOpens(options.directory);
  const server = dynalite({
    ...(options.directory !== undefined && { path: options.directory }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}
