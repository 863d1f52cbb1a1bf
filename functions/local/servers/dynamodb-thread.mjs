// The local DynamoDB's own thread (started by dynamodb-server.ts): dynalite, in memory or on
// LevelDB under `workerData.directory`, on 127.0.0.1. Plain JavaScript so that the same file runs
// from source and from dist/ (scripts/build-cli.mjs copies it there as an entry of its own) without
// a TypeScript loader in the thread.
//
// Messages: to the parent `{ port }` once listening, or `{ error }` when it cannot start;
// from the parent `'stop'`, answered by closing the server and the database and ending the thread.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

/**
 * Opens `directory` once with the very LevelDB dynalite will use (its own `level` dependency) and
 * closes it again. dynalite opens it in the background and, when that fails (a garbage `CURRENT`
 * file, a damaged manifest), crashes on the first request with "Database is not open" far from
 * any explanation; checking first turns that into an error that names the folder.
 */
async function assertOpens(directory) {
  const fail = (cause) => {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `the local DynamoDB folder ${directory} cannot be opened (${reason}): it is damaged or holds something else. ` +
        'Move it aside (e.g. rename it to dynamodb.broken) and run the command again: the next sync records ' +
        "the archive's state afresh and adopts the photos it finds already archived instead of downloading them again.",
    );
  };
  await mkdir(directory, { recursive: true }).catch(fail);
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level');
  const db = new Level(directory, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (error) {
    // LevelDB's own reason is on the cause (`Corruption: ...`); the wrapper says "not open".
    fail(error.cause ?? error);
  }
  await db.close();
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function close(server) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

async function start() {
  const { directory } = workerData;
  if (directory !== undefined) await assertOpens(directory);
  const server = dynalite({
    ...(directory !== undefined && { path: directory }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const port = await listen(server);
  parentPort.on('message', (message) => {
    if (message !== 'stop') return;
    close(server).then(
      () => parentPort.close(),
      (error) => {
        parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
        parentPort.close();
      },
    );
  });
  parentPort.postMessage({ port });
}

start().catch((error) => {
  parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  parentPort.close();
});
