/**
 * Reads of the local DynamoDB's LevelDB taken synchronously (`getSync`) when it is open, their
 * answers still handed over asynchronously as before. dynalite reads one item per write (the item
 * a condition is judged on) and one per key of a BatchGetItem, each a round trip through libuv's
 * thread pool: queueing, waking a thread, a promise and its tracking. On the two cores a first
 * sync shares with its servers that hand-off cost more than the read itself, which LevelDB answers
 * from its memtable or block cache in microseconds.
 *
 * Nothing else changes: the same database, the same values (decoded by the same encoding), not
 * found is `undefined` as before, a failed read goes to the callback as an error. While the
 * database is opening or closed the read goes the old way (which waits for the opening or answers
 * "Database is closed").
 */
import type { Callback, DynaliteStore } from './dynalite-modules.ts';

interface SyncReadable {
  readonly status: string;
  readonly supports: { readonly getSync?: boolean };
  getSync(key: string): unknown;
  get(key: string, callback?: Callback): unknown;
}

export function readSynchronously(store: DynaliteStore): void {
  const db = store.db as unknown as SyncReadable;
  if (db.supports.getSync !== true) return;
  const lifecycle = (store as { lifecycleManager?: { getState(): string } }).lifecycleManager;
  const read = db.get.bind(db);
  db.get = (key: string, callback?: Callback) => {
    if (typeof callback !== 'function' || db.status !== 'open' || lifecycle?.getState() === 'closed') {
      return read(key, callback);
    }
    let value: unknown;
    try {
      value = db.getSync(key);
    } catch (error) {
      setImmediate(callback, error);
      return undefined;
    }
    setImmediate(callback, null, value);
    return undefined;
  };
}
