/**
 * The pause before writing a batch again that DynamoDB cancelled with no condition refused: its
 * throttling (`ThrottlingError`) or a racing transaction (`TransactionConflict`) held it back, and
 * the SDK does not retry a cancelled transaction. Sent again at once it meets the same throttling;
 * a short random pause (full jitter under a bound that doubles each round) lets it pass.
 */
import { sleep } from '#shared/retry.ts';

/** Bound of the pause after the first cancellation, doubled after each later one. */
export const HELD_BACK_FIRST_PAUSE_MS = 100;

/** Waits before round `attempt + 1` (attempt 0 = the first write was cancelled); none once the deadline fired. */
export async function pauseAfterHeldBack(
  attempt: number,
  deps: { readonly sleep?: (ms: number) => Promise<void>; readonly signal?: AbortSignal },
  random: () => number = Math.random,
): Promise<void> {
  if (deps.signal?.aborted === true) return;
  await (deps.sleep ?? sleep)(Math.ceil(random() * HELD_BACK_FIRST_PAUSE_MS * 2 ** attempt));
}
