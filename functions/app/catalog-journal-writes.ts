/**
 * The catalog's journal objects as they are written (app/catalog-upkeep.ts): by detection before
 * it enqueues, and by a worker before it carries out work so late that a fold may have dropped
 * its items. A module of its own: the workers' bundle takes this and nothing of the fold.
 */
import { randomUUID } from 'node:crypto';
import type { JournalItem } from '#domain/catalog/catalog-journal.ts';
import { CATALOG_JOURNAL_PREFIX, renewedJournalItems } from '#domain/catalog/journal-items.ts';
import { isLibraryWorkItem, type WorkMessage } from '#domain/model/work.ts';
import type { ObjectStoreWithoutStreaming } from '#ports/object-store.ts';

/** Journal object keys sort by the time they were written. */
function journalKey(at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:.]/g, '');
  return `${CATALOG_JOURNAL_PREFIX}${stamp}-${randomUUID()}.json`;
}

export async function putText(
  objects: Pick<ObjectStoreWithoutStreaming, 'putBytes'>,
  key: string,
  text: string,
  contentType: string,
): Promise<number> {
  const bytes = Buffer.from(text, 'utf8');
  await objects.putBytes(key, bytes, { contentType });
  return bytes.length;
}

export async function writeJournal(
  objects: Pick<ObjectStoreWithoutStreaming, 'putBytes'>,
  items: readonly JournalItem[],
  at: number,
): Promise<void> {
  if (items.length === 0) return;
  await putText(objects, journalKey(at), JSON.stringify({ v: 1, items }), 'application/json');
}

/**
 * The worker's side of the journal: before it carries out a message issued so long ago that a fold
 * may have dropped its items (`JOURNAL_RENEW_AFTER_MS`: work parked through a long sign-in latch,
 * a dead letter sent back by hand), one journal object lists them again, so the fold records what
 * the work does. On time, nothing is written. Journal first, as detection does: a crash after it
 * leaves an item the fold drops in time.
 */
export async function journalLateWork(
  objects: Pick<ObjectStoreWithoutStreaming, 'putBytes'>,
  message: WorkMessage,
  now: number,
): Promise<number> {
  const items = renewedJournalItems(message.items.filter(isLibraryWorkItem), message.issuedAt, now);
  await writeJournal(objects, items, now);
  return items.length;
}
