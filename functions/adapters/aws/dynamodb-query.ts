/**
 * Reads a whole partition of the state table: the pages of a Query, strongly consistent, each item
 * parsed as it comes. Every store that lists a partition uses it, so a bundle carries the loop once.
 */
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';

/** Every item of partition `pk`, each passed through `parse`. */
export async function queryPartition<T>(
  client: DynamoDBDocumentClient,
  table: string,
  pk: string,
  parse: (item: Record<string, unknown>) => T,
): Promise<T[]> {
  const found: T[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) found.push(parse(item));
  return found;
}
