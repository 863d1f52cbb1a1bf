/**
 * Typed access to the parts of dynalite 4 (`node_modules/dynalite`) that the local DynamoDB's
 * `TransactWriteItems` reuses: its store, its request validations and its item actions. Loaded
 * from dynalite's own folder, so they are the very modules its server runs.
 */
import { createRequire } from 'node:module';

export type Callback<T = unknown> = (error: unknown, value?: T) => void;

/** An error dynalite answers with: `statusCode` and the JSON `body` it sends. */
export interface DynaliteError extends Error {
  statusCode: number;
  body: { __type: string; message?: string; Message?: string };
}

export function isDynaliteError(error: unknown): error is DynaliteError {
  return error instanceof Error && typeof (error as Partial<DynaliteError>).statusCode === 'number';
}

export type AttributeMap = Record<string, unknown>;

/** A table definition as dynalite stores it (the DescribeTable shape). */
export interface TableDefinition {
  readonly TableName: string;
  readonly KeySchema: readonly { AttributeName: string; KeyType: string }[];
}

/** `lock` 1.x: the callback gets `release(done)`, which returns `done` wrapped to release first. */
export type Release = (done: () => void) => () => void;

/** One of the store's key-prefixed views of its LevelDB (items of a table, entries of an index). */
export interface SubDatabase {
  get(key: string, callback: Callback): void;
  put(key: string, value: unknown, callback: Callback): void;
  del(key: string, callback: Callback): void;
  /** One key, or several taken together (all or none, in one step). */
  lock(key: string | string[], exec: (release: Release) => void): void;
}

export type BatchOperation = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

/** dynalite's store (dynalite/db/index.js `create`): one per server. */
export interface DynaliteStore {
  readonly options: { maxItemSize: number };
  /** The LevelDB (or memory-level) database itself; `batch` applies its operations atomically. */
  readonly db: { batch(operations: BatchOperation[], callback: Callback): void };
  getTable(name: string, checkStatus: unknown, callback?: Callback): void;
  getItemDb(tableName: string): SubDatabase;
  getIndexDb(indexType: string, tableName: string, indexName: string): SubDatabase;
  readonly tableDb: {
    put(key: string, value: unknown, callback: Callback): void;
    del(key: string, callback: Callback): void;
  };
}

/** The key prefix of a `getItemDb` view in the store's database (dynalite/db/index.js `getSubDb`). */
export function itemKeyPrefix(tableName: string): string {
  return `item-${tableName}~`;
}

/** The key prefix of a `getIndexDb` view in the store's database. */
export function indexKeyPrefix(indexType: string, tableName: string, indexName: string): string {
  return `index-${indexType.toLowerCase()}~${tableName}~${indexName}~`;
}

/** An operation's types and custom checks (dynalite/validations/<operation>.js). */
export interface OperationValidation {
  readonly types: Record<string, unknown>;
  readonly custom: (data: AttributeMap, store: DynaliteStore) => string | undefined;
}

/** An item action (dynalite/actions/<operation>.js). */
export type ItemAction = (store: DynaliteStore, data: AttributeMap, callback: Callback<AttributeMap>) => void;

export interface DynaliteModules {
  readonly db: {
    create(options: unknown): DynaliteStore;
    validateItem(item: unknown, table: TableDefinition): DynaliteError | undefined;
    validateKey(key: unknown, table: TableDefinition): DynaliteError | undefined;
    createKey(itemOrKey: unknown, table: TableDefinition): string;
    checkConditional(data: AttributeMap, existingItem: unknown): DynaliteError | null | undefined;
    validationError(message: string): DynaliteError;
  };
  readonly validations: {
    /** Throws a SerializationException; returns a copy holding only the known members. */
    checkTypes(data: unknown, types: Record<string, unknown>): AttributeMap;
    /** Throws a ValidationException. */
    checkValidations(
      data: AttributeMap,
      types: Record<string, unknown>,
      custom: OperationValidation['custom'] | undefined,
      store: DynaliteStore,
    ): void;
  };
  readonly putItem: { validation: OperationValidation; action: ItemAction };
  readonly updateItem: { validation: OperationValidation; action: ItemAction };
  readonly deleteItem: { validation: OperationValidation; action: ItemAction };
  readonly require: NodeJS.Require;
}

let loaded: DynaliteModules | undefined;

export function dynaliteModules(): DynaliteModules {
  if (loaded !== undefined) return loaded;
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const operation = (name: string) => ({
    validation: fromDynalite(`./validations/${name}`) as OperationValidation,
    action: fromDynalite(`./actions/${name}`) as ItemAction,
  });
  loaded = {
    db: fromDynalite('./db') as DynaliteModules['db'],
    validations: fromDynalite('./validations') as DynaliteModules['validations'],
    putItem: operation('putItem'),
    updateItem: operation('updateItem'),
    deleteItem: operation('deleteItem'),
    require: fromDynalite,
  };
  return loaded;
}
