/**
 * The record envelope (docs/protocol/cloudkit.md#record-envelope) and the inline error items that may stand in its place
 * (docs/protocol/cloudkit.md#query-pages, docs/protocol/cloudkit.md#records-lookup). Lenient at the edges: extra keys pass, `fields` of any shape is kept for
 * the field readers. Strict at the core: a record needs a `recordName`, a `recordChangeTag`, and
 * a `recordType` unless it is a tombstone.
 */

import { UnexpectedResponseError } from '#domain/errors.ts';
import * as z from '#shared/zod.ts';
import { asRawFields, type RawFields } from './field-values.ts';

const timestampSchema = z.catch(z.nullish(z.looseObject({ timestamp: z.optional(z.number()) })), undefined);

const recordSchema = z.looseObject({
  recordName: z.string().check(z.minLength(1)),
  recordType: z.nullish(z.string().check(z.minLength(1))),
  recordChangeTag: z.string().check(z.minLength(1)),
  deleted: z.catch(z.nullish(z.boolean()), undefined),
  fields: z.optional(z.unknown()),
  created: timestampSchema,
  modified: timestampSchema,
  expirationTime: z.catch(z.nullish(z.number()), undefined),
});

const errorItemSchema = z.looseObject({
  recordName: z.catch(z.optional(z.string()), undefined),
  serverErrorCode: z.string().check(z.minLength(1)),
  reason: z.catch(z.optional(z.string()), undefined),
});

/** A record as the mapping uses it: the envelope checked, the fields left for the readers. */
export interface CloudKitRecord {
  readonly recordName: string;
  /** Null for tombstones. */
  readonly recordType: string | null;
  readonly recordChangeTag: string;
  /** True only for tombstones (hard-deleted records, docs/protocol/records.md#tombstones). */
  readonly deleted: boolean;
  readonly fields: RawFields;
  readonly createdTime?: number;
  readonly modifiedTime?: number;
}

/** A record CloudKit could not serve, reported in place (`{"recordName", "serverErrorCode", "reason"}`). */
export interface RecordErrorItem {
  readonly recordName?: string;
  readonly serverErrorCode: string;
  readonly reason?: string;
}

export type RecordItem =
  | { readonly kind: 'record'; readonly record: CloudKitRecord }
  | { readonly kind: 'error'; readonly error: RecordErrorItem };

/** Safe to print: a record name, never a field value. */
function describe(raw: unknown): string {
  const name =
    typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['recordName'] : undefined;
  return typeof name === 'string' ? `record ${name.slice(0, 80)}` : 'a record without a recordName';
}

/**
 * Reads one element of a `records` array. Throws `UnexpectedResponseError` (for this record only)
 * when a core field is missing or mistyped; never throws anything else.
 */
export function parseRecordItem(raw: unknown): RecordItem {
  const asError = errorItemSchema.safeParse(raw);
  if (asError.success && (raw as Record<string, unknown>)['recordType'] === undefined) {
    const { recordName, serverErrorCode, reason } = asError.data;
    return {
      kind: 'error',
      error: {
        serverErrorCode,
        ...(recordName !== undefined ? { recordName } : {}),
        ...(reason !== undefined ? { reason } : {}),
      },
    };
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UnexpectedResponseError(`CloudKit sent ${describe(raw)} without its core fields`, {
      cause: parsed.error,
      permanent: true,
    });
  }
  const { recordName, recordType, recordChangeTag, deleted, fields, created, modified } = parsed.data;
  const isTombstone = deleted === true;
  if (!isTombstone && (recordType === null || recordType === undefined)) {
    throw new UnexpectedResponseError(`CloudKit sent ${describe(raw)} without a recordType`, {
      permanent: true,
    });
  }
  return {
    kind: 'record',
    record: {
      recordName,
      recordType: recordType ?? null,
      recordChangeTag,
      deleted: isTombstone,
      fields: asRawFields(fields),
      ...(created?.timestamp !== undefined ? { createdTime: created.timestamp } : {}),
      ...(modified?.timestamp !== undefined ? { modifiedTime: modified.timestamp } : {}),
    },
  };
}
