/**
 * The signed-in account as the archive records it (domain/model/archive-owner.ts): a hash of the
 * dsid, never the dsid itself, and the Apple ID masked for messages.
 */
import { createHash } from 'node:crypto';
import type { AccountIdentity } from '#domain/model/archive-owner.ts';
import { maskEmail } from '#shared/secret-kinds.ts';

/** `sha256:<hex>` of the dsid (a fixed prefix keeps it apart from other hashes of the same number). */
export function accountIdentity(dsid: string, appleId: string | undefined): AccountIdentity {
  const id = `sha256:${createHash('sha256').update(`icloud-s3 account ${dsid}`).digest('hex')}`;
  return appleId === undefined || appleId === '' ? { id } : { id, label: maskAppleId(appleId) };
}

/** An Apple ID for a message: an email masked (`j***@e***.com`), anything else (a phone) to its last two characters. */
export function maskAppleId(appleId: string): string {
  const masked = maskEmail(appleId);
  if (masked !== appleId) return masked;
  return appleId.length <= 2 ? '***' : `***${appleId.slice(-2)}`;
}
