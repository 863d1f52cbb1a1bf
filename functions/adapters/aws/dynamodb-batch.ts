/**
 * BatchWriteItem and BatchGetItem until DynamoDB has dealt with every request: under throttling a
 * batch call answers with some left unprocessed, which are sent again, for at most `BATCH_ROUNDS`
 * rounds before giving up loudly (the caller's message says what was left).
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Rounds of retrying what a batch call left unprocessed before giving up. */
export const BATCH_ROUNDS = 8;

/** Sends one BatchWriteItem's requests (at most 25) until none is left unprocessed. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  table: string,
  requests: Record<string, unknown>[],
  leftUnwritten: string,
): Promise<void> {
  let left = requests;
  for (let round = 0; left.length > 0; round += 1) {
    if (round === BATCH_ROUNDS) throw new Error(leftUnwritten);
    const output = await client.send(new BatchWriteCommand({ RequestItems: { [table]: left } }));
    left = (output.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
  }
}

/** Reads one BatchGetItem's keys (at most 100, consistently) until each is answered; hands each item found to `onItem`. */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  leftUnread: string,
  onItem: (raw: Record<string, unknown>) => void,
): Promise<void> {
  let wanted = keys;
  for (let round = 0; wanted.length > 0; round += 1) {
    if (round === BATCH_ROUNDS) throw new Error(leftUnread);
    const output = await client.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: wanted, ConsistentRead: true } } }),
    );
    for (const raw of output.Responses?.[table] ?? []) onItem(raw);
    wanted = (output.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
  }
}
