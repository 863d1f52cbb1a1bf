/**
 * Runs `work` over `items`, at most `limit` at once, and gives the results in the items' order. A
 * failure starts no further item, lets those under way end, then rejects with the first error:
 * nothing is left running behind the caller's back.
 */
export async function mapAtMost<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const lane = async () => {
    for (let i = next++; i < items.length && failure === undefined; i = next++) {
      try {
        results[i] = await work(items[i] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure.error;
  return results;
}
