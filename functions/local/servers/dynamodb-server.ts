/**
 * Local DynamoDB: dynalite in-process, in memory or on LevelDB under `directory`. It has no
 * transactions, TTL API or PartiQL, which is why the state store uses none of them.
 */
import { mkdir } from 'node:fs/promises';
import dynalite from 'dynalite';
import { closeServer, listenOnLoopback } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

export async function startDynamoDbServer(options: { directory?: string } = {}): Promise<LocalServer> {
  if (options.directory !== undefined) await mkdir(options.directory, { recursive: true });
  const server = dynalite({
    ...(options.directory !== undefined && { path: options.directory }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}
