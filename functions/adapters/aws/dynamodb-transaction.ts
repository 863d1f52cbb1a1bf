/**
 * TransactWriteItems for the state table: several conditional writes applied all together or not
 * at all. A cancelled transaction is an outcome, not an error: DynamoDB says per action why
 * (`CancellationReasons`), and the actions whose condition failed are named for the caller,
 * which handles them one by one (the others were held back only by them, or by a racing
 * transaction on one of the items, and may be written again).
 */
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ItemKey } from './state-items.ts';

/** One Put of a transaction: its item (with its keys) and the condition it is written under. */
export interface ConditionalPut {
  readonly Item: ItemKey & Record<string, unknown>;
  readonly ConditionExpression: string;
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

/**
 * Writes `puts` in one transaction. Resolves `undefined` once all are written, or the positions
 * whose condition failed when DynamoDB cancelled it (none when only a racing transaction or
 * throttling did: all may go again). Throws what is not a cancellation, such as DynamoDB's
 * ValidationException for more than 100 actions or two on one item.
 */
export async function transactPuts(
  client: DynamoDBDocumentClient,
  table: string,
  puts: readonly ConditionalPut[],
): Promise<{ readonly refused: readonly number[] } | undefined> {
  if (puts.length === 0) return undefined;
  try {
    // The client's own command, its items marshalled here: lib-dynamodb's TransactWriteCommand,
    // which would do it, costs the workers' bundle 0.6 KB (it is held to 600,000 bytes).
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: puts.map(({ Item, ExpressionAttributeValues, ...put }) => ({
          Put: {
            TableName: table,
            ...put,
            Item: marshall(Item),
            ...(ExpressionAttributeValues === undefined
              ? {}
              : { ExpressionAttributeValues: marshall(ExpressionAttributeValues) }),
          },
        })),
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
