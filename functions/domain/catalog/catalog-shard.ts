/**
 * Where a catalog record lives and how a shard is written (docs/archive-layout.md#9-the-catalog).
 *
 * The catalog is split into `CATALOG_SHARDS` objects by a stable hash of the asset's identity, so
 * one changed asset rewrites one shard of about (library size / 1,024) records, never the whole
 * catalog, and an asset never moves between shards. A shard is JSON Lines, one record per line,
 * sorted by identity: the same records always give the same bytes, so an unchanged shard is
 * recognised and not written.
 */
import { createHash } from 'node:crypto';
import { type CatalogRecord, catalogIdOf, catalogRecordSchema, recordId } from './catalog-record.ts';

import { CATALOG_PREFIX } from './journal-ids.ts';

export { CATALOG_PREFIX };
export const CATALOG_SHARD_PREFIX = `${CATALOG_PREFIX}/assets/`;
export const CATALOG_SHARDS = 1024;
export const CATALOG_SHARD_CONTENT_TYPE = 'application/x-ndjson';

/** The shard of an asset: three hex digits, `000` to `3ff`, from SHA-256 of its catalog id. */
export function shardOf(ref: Parameters<typeof catalogIdOf>[0]): string {
  const digest = createHash('sha256').update(catalogIdOf(ref), 'utf8').digest();
  const n = ((digest[0] ?? 0) * 256 + (digest[1] ?? 0)) % CATALOG_SHARDS;
  return n.toString(16).padStart(3, '0');
}

/** The object key of a shard. */
export function shardKey(shard: string): string {
  return `${CATALOG_SHARD_PREFIX}${shard}.jsonl`;
}

/** The shard named by an object key, when it is one. */
export function shardOfKey(key: string): string | undefined {
  const match = /^catalog\/assets\/([0-9a-f]{3})\.jsonl$/.exec(key);
  return match?.[1];
}

/** One record as its line (without the newline), keys in the schema's order. */
export function encodeRecord(record: CatalogRecord): string {
  return JSON.stringify(catalogRecordSchema.parse(record));
}

/** A shard's bytes: records sorted by identity, one per line. */
export function encodeShard(records: Iterable<CatalogRecord>): string {
  const sorted = [...records].sort((a, b) =>
    recordId(a) < recordId(b) ? -1 : recordId(a) > recordId(b) ? 1 : 0,
  );
  return sorted.map((r) => `${encodeRecord(r)}\n`).join('');
}

/** Reads a shard; a line that is not a record is an error (our own format). */
export function decodeShard(text: string): CatalogRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => catalogRecordSchema.parse(JSON.parse(line)));
}
