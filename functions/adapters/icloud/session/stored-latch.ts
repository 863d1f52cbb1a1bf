/**
 * Reads the stored session's reauth latch without opening the session (no request to Apple): the
 * detector's redrive asks it before sending dead letters back, which would only fail again while a
 * person must sign in.
 */
import type { SessionStore } from '#ports/session-store.ts';
import { parseSessionDocument } from './session-schema.ts';

/** The latch (`signInNeeded`) of the stored session; undefined when it is not latched or none is stored. */
export async function storedSignInLatch(
  store: SessionStore,
): Promise<{ readonly since: number; readonly reason: string } | undefined> {
  const stored = await store.load();
  if (stored === undefined) return undefined;
  return parseSessionDocument(stored.document).signInNeeded;
}
