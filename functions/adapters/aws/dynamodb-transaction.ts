/**
 * TransactWriteItems for the state table: several conditional writes applied all together or not
 * at all. A cancelled transaction is an outcome, not an error: DynamoDB says per action why
 * (`CancellationReasons`), and the actions whose condition failed are named for the caller,
 * which handles them one by one (the others were held back only by them, or by a racing
 * transaction on one of the items, and may be written again).
 */
import { type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ItemKey } from './state-items.ts';

/** One Put of a transaction: its item (with its keys) and the condition it is written under. */
export interface ConditionalPut {
  readonly Item: ItemKey & Record<string, unknown>;
  /** None: written whatever is there (an idempotent put beside conditional ones). */
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** Why DynamoDB cancelled a transaction, per action (`None` for an action that was fine). */
interface CancellationReason {
  readonly Code?: string;
}

function cancellationReasons(error: unknown): readonly CancellationReason[] | undefined {
  const cancelled = error as { name?: string; CancellationReasons?: CancellationReason[] } | undefined;
  return cancelled?.name === 'TransactionCanceledException'
    ? (cancelled.CancellationReasons ?? [])
    : undefined;
}

/** One ConditionCheck of a transaction: an item that must meet a condition, left unwritten. */
export interface ConditionCheck {
  readonly Key: ItemKey;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** One Update of a transaction: its item's key, its update, and the condition it is made under. */
export interface ConditionalUpdate {
  readonly Key: ItemKey;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** One action of a transaction (each on its own item). */
export type TransactAction =
  | { readonly Put: ConditionalPut }
  | { readonly ConditionCheck: ConditionCheck }
  | { readonly Update: ConditionalUpdate };

/** An action's parameters for the client: its table named, its item, key and values marshalled. */
function marshalled(
  table: string,
  action: ConditionalPut | ConditionCheck | ConditionalUpdate,
): Record<string, unknown> {
  const { ExpressionAttributeValues, ...rest } = action;
  const { Item, Key, ...others } = rest as { Item?: Record<string, unknown>; Key?: ItemKey };
  return {
    TableName: table,
    ...others,
    ...(Item === undefined ? {} : { Item: marshall(Item) }),
    ...(Key === undefined ? {} : { Key: marshall(Key) }),
    ...(ExpressionAttributeValues === undefined
      ? {}
      : { ExpressionAttributeValues: marshall(ExpressionAttributeValues) }),
  };
}

/**
 * Makes `actions` in one transaction. Resolves `undefined` once all are made, or the positions
 * whose condition failed when DynamoDB cancelled it (none when only a racing transaction or
 * throttling did: all may go again). Throws what is not a cancellation, such as DynamoDB's
 * ValidationException for more than 100 actions or two on one item.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  table: string,
  actions: readonly TransactAction[],
): Promise<{ readonly refused: readonly number[] } | undefined> {
  if (actions.length === 0) return undefined;
  try {
    // The client's own command, its items marshalled here: lib-dynamodb's TransactWriteCommand,
    // which would do it, costs the workers' bundle 0.6 KB (it is held to 600,000 bytes).
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: actions.map((action) =>
          'Put' in action
            ? { Put: marshalled(table, action.Put) }
            : 'Update' in action
              ? { Update: marshalled(table, action.Update) }
              : { ConditionCheck: marshalled(table, action.ConditionCheck) },
        ) as unknown as TransactWriteItem[],
      }),
    );
    return undefined;
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons === undefined) throw error;
    return {
      refused: reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : [])),
    };
  }
}

/** Writes `puts` in one transaction (see transactWrite). */
export function transactPuts(
  client: DynamoDBDocumentClient,
  table: string,
  puts: readonly ConditionalPut[],
): Promise<{ readonly refused: readonly number[] } | undefined> {
  return transactWrite(
    client,
    table,
    puts.map((put) => ({ Put: put })),
  );
}
