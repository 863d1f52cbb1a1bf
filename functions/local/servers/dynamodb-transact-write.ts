/**
 * `TransactWriteItems` for the local DynamoDB (dynalite has none), answering as DynamoDB does:
 * 1-100 actions (`ConditionCheck`, `Put`, `Update`, `Delete`) on distinct items, applied all or
 * none; a failed condition cancels the whole transaction with one reason per action.
 *
 * Each action runs through dynalite's own validations and item actions (PutItem, UpdateItem,
 * DeleteItem), so keys, item sizes, expressions and conditions are judged exactly as in a single
 * write. As in DynamoDB, what the request alone shows (member constraints, expressions, a Put's
 * size, an empty key value) is refused up front with a ValidationException, and what needs the
 * table or the item (a key of another type, an update of a key attribute, an update that makes
 * the item too large) cancels with a `ValidationError` reason. Isolation and atomicity come from
 * two things around them:
 * - the transaction takes dynalite's own per-item locks on all its items at once (the locks every
 *   PutItem, UpdateItem, DeleteItem and BatchWriteItem takes), so no write of those items runs
 *   between its reads and its commit; other items and all reads go on at full speed;
 * - the actions write into a buffer, not the database; when every action passed, the buffer
 *   (items and index entries) goes to LevelDB in one atomic batch, so a reader sees all of the
 *   transaction or none of it, a crash leaves all or none, and a cancelled transaction leaves
 *   nothing to undo.
 */

import { createHash } from 'node:crypto';
import {
  type AttributeMap,
  type BatchOperation,
  type Callback,
  type DynaliteError,
  type DynaliteModules,
  type DynaliteStore,
  dynaliteModules,
  indexKeyPrefix,
  isDynaliteError,
  itemKeyPrefix,
  type Release,
  type SubDatabase,
  type TableDefinition,
} from './dynalite-modules.ts';
import { ClientTokens } from './dynamodb-client-tokens.ts';

/** What the server sends back: the HTTP status and the JSON body. */
export interface DynamoDbAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

const ERROR_TYPE = 'com.amazonaws.dynamodb.v20120810#';
const ACTION_KINDS = ['ConditionCheck', 'Put', 'Update', 'Delete'] as const;
type ActionKind = (typeof ACTION_KINDS)[number];

interface Action {
  readonly kind: ActionKind;
  /** The action's parameters, checked and with their expressions parsed by dynalite. */
  readonly data: AttributeMap & { TableName: string };
  readonly returnOldItem: boolean;
}

/**
 * An action with its table and either dynalite's key of its item, or, when the key does not fit
 * the table's schema, the reason it fails whatever the table holds.
 */
type PlacedAction = Action & { readonly table: TableDefinition } & (
    | { readonly key: string; readonly invalid?: undefined }
    | { readonly key?: undefined; readonly invalid: CancellationReason }
  );

type CancellationReason =
  | { Code: 'None' }
  | { Code: 'ConditionalCheckFailed' | 'ValidationError'; Message: string; Item?: AttributeMap };

function answerError(error: DynaliteError): DynamoDbAnswer {
  return { statusCode: error.statusCode, body: error.body };
}

function dynamoDbError(type: string, message: string): DynamoDbAnswer {
  return { statusCode: 400, body: { __type: `${ERROR_TYPE}${type}`, message } };
}

function pick(types: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, types[name]]));
}

/** The request's shape in dynalite's type language (dynalite/validations/*.js `types`). */
function requestTypes(modules: DynaliteModules): Record<string, unknown> {
  const put = modules.putItem.validation.types;
  const update = modules.updateItem.validation.types;
  const onFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  const expression = ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];
  const member = (kind: ActionKind, children: Record<string, unknown>) => [
    kind,
    {
      type: `FieldStruct<${kind}>`,
      children: { ...children, ReturnValuesOnConditionCheckFailure: onFailure },
    },
  ];
  const required = (type: unknown) => ({ ...(type as object), notNull: true });
  return {
    TransactItems: {
      type: 'List',
      notNull: true,
      lengthGreaterThanOrEqual: 1,
      lengthLessThanOrEqual: 100,
      children: {
        type: 'ValueStruct<TransactWriteItem>',
        children: Object.fromEntries([
          member('ConditionCheck', {
            ...pick(update, ['TableName', 'Key', ...expression]),
            ConditionExpression: required(update.ConditionExpression),
          }),
          member('Put', pick(put, ['TableName', 'Item', ...expression])),
          member('Update', {
            ...pick(update, ['TableName', 'Key', 'UpdateExpression', ...expression]),
            UpdateExpression: required(update.UpdateExpression),
          }),
          member('Delete', pick(update, ['TableName', 'Key', ...expression])),
        ]),
      },
    },
    ClientRequestToken: { type: 'String', lengthGreaterThanOrEqual: 1, lengthLessThanOrEqual: 36 },
    ReturnConsumedCapacity: put.ReturnConsumedCapacity,
    ReturnItemCollectionMetrics: put.ReturnItemCollectionMetrics,
  };
}

/** Checks the request as DynamoDB does before touching any table; throws a DynaliteError. */
function checkRequest(
  modules: DynaliteModules,
  types: Record<string, unknown>,
  request: unknown,
  store: DynaliteStore,
): { actions: Action[]; token: string | undefined } {
  const { validations, db } = modules;
  const data = validations.checkTypes(request, types);
  validations.checkValidations(data, types, undefined, store);
  const actions = (data.TransactItems as AttributeMap[]).map((item): Action => {
    const kinds = ACTION_KINDS.filter((kind) => item[kind] !== undefined);
    const [kind] = kinds;
    if (kind === undefined || kinds.length > 1) {
      throw db.validationError('TransactItems can only contain one of Check, Put, Update or Delete');
    }
    const { ReturnValuesOnConditionCheckFailure, ...parameters } = item[kind] as AttributeMap;
    const validation = {
      ConditionCheck: modules.deleteItem,
      Put: modules.putItem,
      Update: modules.updateItem,
      Delete: modules.deleteItem,
    }[kind].validation;
    const message = validation.custom(parameters, store);
    if (message) throw db.validationError(message);
    return {
      kind,
      data: parameters as Action['data'],
      returnOldItem: ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
    };
  });
  return { actions, token: data.ClientRequestToken as string | undefined };
}

function readTable(store: DynaliteStore, name: string): Promise<TableDefinition> {
  return new Promise((resolve, reject) =>
    store.getTable(name, true, (error, table) => (error ? reject(error) : resolve(table as TableDefinition))),
  );
}

/**
 * DynamoDB refuses an empty string or binary as a key value up front; any other key that does
 * not fit the table's schema (a missing attribute, another type) cancels the transaction with a
 * `ValidationError` reason for that action.
 */
function emptyKeyValue(itemOrKey: unknown, table: TableDefinition): string | undefined {
  for (const { AttributeName } of table.KeySchema) {
    const value = (itemOrKey as Record<string, { S?: unknown; B?: unknown } | undefined>)[AttributeName];
    const empty = value?.S === '' ? 'string' : value?.B === '' ? 'binary' : undefined;
    if (empty !== undefined) {
      return `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${empty} value. Key: ${AttributeName}`;
    }
  }
  return undefined;
}

/** Finds each action's table and item; refuses a missing table, an empty key, two actions on one item. */
async function placeActions(
  modules: DynaliteModules,
  store: DynaliteStore,
  actions: readonly Action[],
): Promise<PlacedAction[]> {
  const tables = new Map<string, TableDefinition>();
  for (const { data } of actions) {
    if (!tables.has(data.TableName)) tables.set(data.TableName, await readTable(store, data.TableName));
  }
  const seen = new Set<string>();
  return actions.map((action) => {
    const table = tables.get(action.data.TableName)!;
    const itemOrKey = action.kind === 'Put' ? action.data.Item : action.data.Key;
    const empty = emptyKeyValue(itemOrKey, table);
    if (empty !== undefined) throw modules.db.validationError(empty);
    const misfit =
      action.kind === 'Put'
        ? modules.db.validateItem(itemOrKey, table)
        : modules.db.validateKey(itemOrKey, table);
    if (misfit) {
      const invalid = { Code: 'ValidationError', Message: misfit.body.message ?? misfit.message } as const;
      return { ...action, table, invalid };
    }
    const key = modules.db.createKey(itemOrKey, table);
    const item = `${table.TableName}\u0000${key}`;
    if (seen.has(item)) {
      throw modules.db.validationError('Transaction request cannot include multiple operations on one item');
    }
    seen.add(item);
    return { ...action, table, key };
  });
}

/**
 * Takes dynalite's locks on every item of the transaction, table by table in name order; within
 * a table all at once. The order rules out a deadlock with another transaction.
 */
async function lockItems(store: DynaliteStore, actions: readonly PlacedAction[]): Promise<() => void> {
  const keysByTable = new Map<string, string[]>();
  for (const { table, key } of actions) {
    if (key === undefined) continue;
    const keys = keysByTable.get(table.TableName) ?? [];
    keys.push(key);
    keysByTable.set(table.TableName, keys);
  }
  const releases: Release[] = [];
  for (const tableName of [...keysByTable.keys()].sort()) {
    const keys = keysByTable.get(tableName)!;
    releases.push(await new Promise<Release>((resolve) => store.getItemDb(tableName).lock(keys, resolve)));
  }
  return () => {
    for (const release of releases) release(() => {})();
  };
}

/**
 * A view of the store whose item and index writes go into `writes` (full database keys) and whose
 * reads see them. Its locks are no-ops: the transaction already holds those of its items.
 */
function bufferedStore(store: DynaliteStore, writes: Map<string, BatchOperation>): DynaliteStore {
  const buffered = (real: SubDatabase, prefix: string): SubDatabase => ({
    get(key, callback) {
      const written = writes.get(prefix + key);
      if (written === undefined) return real.get(key, callback);
      process.nextTick(callback, null, written.type === 'put' ? written.value : undefined);
    },
    put(key, value, callback) {
      writes.set(prefix + key, { type: 'put', key: prefix + key, value });
      process.nextTick(callback, null);
    },
    del(key, callback) {
      writes.set(prefix + key, { type: 'del', key: prefix + key });
      process.nextTick(callback, null);
    },
    lock(_key, exec) {
      exec((done) => done);
    },
  });
  return Object.create(store, {
    getItemDb: {
      value: (tableName: string) => buffered(store.getItemDb(tableName), itemKeyPrefix(tableName)),
    },
    getIndexDb: {
      value: (indexType: string, tableName: string, indexName: string) =>
        buffered(
          store.getIndexDb(indexType, tableName, indexName),
          indexKeyPrefix(indexType, tableName, indexName),
        ),
    },
  }) as DynaliteStore;
}

function call<T>(run: (callback: Callback<T>) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

/** Runs one action through dynalite against the buffered store and says how it went. */
async function runAction(
  modules: DynaliteModules,
  store: DynaliteStore,
  action: PlacedAction,
): Promise<CancellationReason> {
  if (action.invalid !== undefined) return action.invalid;
  const { key } = action;
  const items = store.getItemDb(action.table.TableName);
  try {
    if (action.kind === 'ConditionCheck') {
      const item = await call((callback) => items.get(key, callback));
      const failed = modules.db.checkConditional(action.data, item);
      if (failed) throw failed;
    } else {
      const run = { Put: modules.putItem, Update: modules.updateItem, Delete: modules.deleteItem }[
        action.kind
      ];
      await call<AttributeMap>((callback) => run.action(store, action.data, callback));
    }
    return { Code: 'None' };
  } catch (error) {
    if (!isDynaliteError(error)) throw error;
    const message = error.body.message ?? error.message;
    if (error.body.__type.endsWith('#ValidationException'))
      return { Code: 'ValidationError', Message: message };
    if (!error.body.__type.endsWith('#ConditionalCheckFailedException')) throw error;
    const old = action.returnOldItem ? await call((callback) => items.get(key, callback)) : undefined;
    return {
      Code: 'ConditionalCheckFailed',
      Message: message,
      ...(old != null && { Item: old as AttributeMap }),
    };
  }
}

/** Applies placed actions all or none, holding their items' locks; returns each action's reason. */
async function applyActions(
  modules: DynaliteModules,
  store: DynaliteStore,
  actions: readonly PlacedAction[],
): Promise<CancellationReason[]> {
  const unlock = await lockItems(store, actions);
  try {
    const writes = new Map<string, BatchOperation>();
    const buffered = bufferedStore(store, writes);
    // Distinct items: the actions cannot see each other's writes, so they may run side by side.
    const outcomes = await Promise.allSettled(actions.map((action) => runAction(modules, buffered, action)));
    const reasons = outcomes.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
    if (reasons.every(({ Code }) => Code === 'None') && writes.size > 0) {
      await call((callback) => store.db.batch([...writes.values()], callback));
    }
    return reasons;
  } finally {
    unlock();
  }
}

function cancelled(reasons: readonly CancellationReason[]): DynamoDbAnswer {
  return {
    statusCode: 400,
    body: {
      __type: `${ERROR_TYPE}TransactionCanceledException`,
      CancellationReasons: reasons,
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map(({ Code }) => Code).join(', ')}]`,
    },
  };
}

/** Answers `TransactWriteItems` requests (parsed JSON bodies) against one dynalite store. */
export function transactWriteItems(store: DynaliteStore): (request: unknown) => Promise<DynamoDbAnswer> {
  const modules = dynaliteModules();
  const types = requestTypes(modules);
  const tokens = new ClientTokens();
  return async (request) => {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return { statusCode: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } };
    }
    // What a repeat with the same token must match: the request without its token. Kept as a
    // digest, since the SDK sends a token with every transaction and they are kept 10 minutes.
    const { ClientRequestToken: _token, ...rest } = request as AttributeMap;
    const fingerprint = createHash('sha256').update(JSON.stringify(rest)).digest('base64');
    let checked: ReturnType<typeof checkRequest>;
    try {
      checked = checkRequest(modules, types, request, store);
    } catch (error) {
      if (isDynaliteError(error)) return answerError(error);
      throw error;
    }
    const { token } = checked;
    if (token !== undefined) {
      const state = tokens.check(token, fingerprint);
      if (state === 'completed') return { statusCode: 200, body: {} };
      if (state === 'mismatch') {
        return dynamoDbError(
          'IdempotentParameterMismatchException',
          'The request uses the same client token as a previous, but non-identical request.',
        );
      }
      if (state === 'running') {
        return dynamoDbError(
          'TransactionInProgressException',
          'The transaction with the given request token is already in progress.',
        );
      }
      tokens.start(token, fingerprint);
    }
    let applied = false;
    try {
      const reasons = await applyActions(modules, store, await placeActions(modules, store, checked.actions));
      applied = reasons.every(({ Code }) => Code === 'None');
      return applied ? { statusCode: 200, body: {} } : cancelled(reasons);
    } catch (error) {
      if (isDynaliteError(error)) return answerError(error);
      throw error;
    } finally {
      if (token !== undefined) tokens.finish(token, fingerprint, applied);
    }
  };
}
