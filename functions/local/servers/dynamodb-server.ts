/**
 * Local DynamoDB: dynalite in-process, in memory or on LevelDB under `directory`, with its table
 * definitions kept in memory (`cacheTableDefinitions`), its reads taken synchronously
 * (dynalite-sync-reads.ts), its expression parses kept (dynalite-expression-cache.ts) and
 * `TransactWriteItems` added in front of it (dynamodb-transaction-route.ts,
 * dynamodb-transact-write.ts). It has no TransactGetItems, TTL
 * API or PartiQL, which is why the state store uses none of them.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type dynaliteServer from 'dynalite';
import { cacheExpressionParses } from './dynalite-expression-cache.ts';
import type { Callback, DynaliteStore } from './dynalite-modules.ts';
import { dynaliteModules } from './dynalite-modules.ts';
import { answerStorageFailures } from './dynalite-storage-errors.ts';
import { readSynchronously } from './dynalite-sync-reads.ts';
import { routeTransactWriteItems } from './dynamodb-transaction-route.ts';
import { closeServer, listenOnLoopback } from './listen.ts';
import type { LocalServer } from './s3-server.ts';

interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Another command (a running `sync`, a `status` in a second terminal) holds the data folder: its
 * LevelDB `LOCK` is taken. The folder is fine; moving it aside would lose what that command
 * writes and the state it holds. The CLI reports it as `state-in-use` (docs/commands.md).
 */
export class LocalStateInUseError extends Error {
  override readonly name = 'LocalStateInUseError';
}

/**
 * The data folder cannot be written: a read-only file system (a NAS share or snapshot mounted
 * read-only, a backup restored read-only), no permission, or a full disk. The folder and its state
 * are fine; moving it aside, as for a damaged one, would throw away the sync tokens, the Shared
 * Albums' state, the failed photos' retries and the sign-in latch. The CLI reports `disk-full` or
 * `folder-not-writable` (docs/commands.md).
 */
export class LocalFolderUnwritableError extends Error {
  override readonly name = 'LocalFolderUnwritableError';
  constructor(
    message: string,
    readonly reason: 'read-only' | 'permission' | 'disk-full',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Why a folder cannot be written, from a Node error code or LevelDB's message (`IO error: …: Read-only file system`). */
export function unwritableReason(cause: unknown): LocalFolderUnwritableError['reason'] | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'ENOSPC' || /No space left on device|ENOSPC/.test(message)) return 'disk-full';
  if (code === 'EROFS' || /Read-only file system|EROFS/.test(message)) return 'read-only';
  if (
    code === 'EACCES' ||
    code === 'EPERM' ||
    /Permission denied|Operation not permitted|EACCES|EPERM/.test(message)
  )
    return 'permission';
  return undefined;
}

const UNWRITABLE_ADVICE: Record<LocalFolderUnwritableError['reason'], string> = {
  'read-only':
    'it is on a read-only file system (a share or snapshot mounted read-only?). Every command on a data folder writes to it, even status: ' +
    'mount it read-write, or copy the whole folder to a writable disk, then run the command again.',
  permission:
    'this user may not write there. Run the command as the user who owns the folder, or give this one write access to the whole folder, then run it again.',
  'disk-full':
    'the disk is full. Free some space on it, then run the command again: nothing is lost, the next sync goes on from where this one stopped.',
};

/**
 * Opens `directory` once with the very LevelDB dynalite will use (its own `level` dependency) and
 * closes it again. dynalite opens it in the background and, when that fails (a garbage `CURRENT`
 * file, a damaged manifest), crashes on the first request with "Database is not open" far from
 * any explanation; checking first turns that into an error that names the folder, and tells a
 * folder another command holds (LevelDB's `LEVEL_LOCKED`) or one that cannot be written (read-only,
 * no permission, a full disk: `LocalFolderUnwritableError`) from a damaged one. Only a damaged one
 * (LevelDB's `Corruption:`, a `CURRENT` naming no manifest, a file where the folder should be) is
 * to be moved aside.
 */
async function assertOpens(directory: string): Promise<void> {
  const fail = (cause: unknown): never => {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const unwritable = unwritableReason(cause);
    if (unwritable !== undefined) {
      throw new LocalFolderUnwritableError(
        `cannot write to the local DynamoDB folder ${directory} (${reason}): ${UNWRITABLE_ADVICE[unwritable]} ` +
          'The folder is not damaged: leave it where it is.',
        unwritable,
        { cause },
      );
    }
    const code = (cause as { code?: unknown } | null)?.code;
    const damaged =
      /Corruption:|No such file or directory/.test(reason) || code === 'EEXIST' || code === 'ENOTDIR';
    if (!damaged) {
      throw new Error(
        `the local DynamoDB folder ${directory} cannot be opened (${reason}). Check the disk it is on, then run the ` +
          'command again. Nothing says the folder is damaged: leave it where it is.',
        { cause },
      );
    }
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
    const cause = (error as { cause?: { code?: unknown } }).cause ?? error;
    if ((cause as { code?: unknown }).code === 'LEVEL_LOCKED') {
      throw new LocalStateInUseError(
        `another icloud-s3 command is using this data folder (${directory} is locked): wait for it to finish, ` +
          'then run this command again. The folder is not damaged: leave it where it is.',
        { cause },
      );
    }
    fail(cause);
  }
  await db.close();
}

/**
 * Keeps each active table's definition in memory. dynalite reads it from LevelDB on every
 * request, and that key, written once at creation, sits in the oldest files: during a first
 * sync's stream of writes each read searched every newer file, about a tenth of the sync's
 * CPU. Any write or removal of a definition (create, update, delete) drops the copy, and a read
 * that began before such a change does not keep its result; callers get their own copy (dynalite
 * changes the object it is given before it writes it back).
 */
function cacheTableDefinitions(store: DynaliteStore): void {
  const read = store.getTable.bind(store);
  const { tableDb } = store;
  const write = tableDb.put.bind(tableDb);
  const remove = tableDb.del.bind(tableDb);
  const cached = new Map<string, unknown>();
  let changes = 0;
  const changing = (key: string, callback: Callback): Callback => {
    changes++;
    cached.delete(key);
    return (error, value) => {
      changes++;
      cached.delete(key);
      callback(error, value);
    };
  };
  tableDb.put = (key, value, callback) => write(key, value, changing(key, callback));
  tableDb.del = (key, callback) => remove(key, changing(key, callback));
  store.getTable = (name, checkStatus, callback) => {
    // Called as (name, callback) it checks the table's status, as with a truthy `checkStatus`.
    const twoArguments = typeof checkStatus === 'function';
    const done = (twoArguments ? checkStatus : callback) as Callback;
    const known = cached.get(name);
    if (known !== undefined) {
      setImmediate(done, null, structuredClone(known));
      return;
    }
    const startedAt = changes;
    read(name, twoArguments ? true : checkStatus, (error: unknown, table?: unknown) => {
      const active = (table as { TableStatus?: unknown } | undefined)?.TableStatus === 'ACTIVE';
      if (error == null && active && changes === startedAt) cached.set(name, structuredClone(table));
      done(error, table);
    });
  };
}

let loaded: { dynalite: typeof dynaliteServer; takeStore: () => DynaliteStore } | undefined;

/**
 * dynalite, with every store it creates wrapped (its `db.create`, looked up at each start) and
 * handed to the one starting the server (`takeStore`), and its expression parses cached. Both come from one `require`, so the module
 * wrapped is the one dynalite uses whatever loads this file.
 */
function dynaliteWithTableCache(): NonNullable<typeof loaded> {
  if (loaded !== undefined) return loaded;
  const requireHere = createRequire(import.meta.url);
  cacheExpressionParses(dynaliteModules());
  const db = createRequire(requireHere.resolve('dynalite'))('./db') as {
    create: (options: unknown) => DynaliteStore;
  };
  const create = db.create;
  let created: DynaliteStore | undefined;
  db.create = (options) => {
    const store = create(options);
    cacheTableDefinitions(store);
    readSynchronously(store);
    answerStorageFailures(store);
    created = store;
    return store;
  };
  const takeStore = () => {
    const store = created;
    created = undefined;
    if (store === undefined) throw new Error('dynalite created no store');
    return store;
  };
  loaded = { dynalite: requireHere('dynalite') as typeof dynaliteServer, takeStore };
  return loaded;
}

export async function startDynamoDbServer(options: { directory?: string } = {}): Promise<LocalServer> {
  if (options.directory !== undefined) await assertOpens(options.directory);
  const { dynalite, takeStore } = dynaliteWithTableCache();
  const server = dynalite({
    ...(options.directory !== undefined && { path: options.directory }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  // dynalite created the server's store synchronously, just now.
  routeTransactWriteItems(server, takeStore());
  const port = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}
