/**
 * Readers for CloudKit's typed field wrappers (`{"value": <v>, "type": "<TYPE>"}`, docs/protocol/cloudkit.md#record-envelope).
 *
 * Every reader is total: whatever JSON sits in `fields`, it returns a value of the promised type
 * or `undefined`, and never throws. Apple's conventions for "off" (absent field, `null` field,
 * `{"value": null}`, explicit `0`) all read as absent or false (docs/protocol/records.md#boolean-flags).
 */

/** A record's `fields` object, untyped: Apple's edge, read only through these functions. */
export type RawFields = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Turns an unknown `fields` value into something the readers accept (non-objects read as empty). */
export function asRawFields(value: unknown): RawFields {
  return isObject(value) ? value : {};
}

/** The wrapper object of field `name`, when it is one. */
export function fieldWrapper(fields: RawFields, name: string): Record<string, unknown> | undefined {
  if (!Object.hasOwn(fields, name)) return undefined;
  const wrapper = fields[name];
  return isObject(wrapper) ? wrapper : undefined;
}

/**
 * The `value` of field `name`. A wrapper without `value`, a `null` field or `{"value": null}` read
 * as undefined; a bare primitive (no wrapper, seen in synthetic fixtures) is taken as the value.
 */
export function fieldValue(fields: RawFields, name: string): unknown {
  if (!Object.hasOwn(fields, name)) return undefined;
  const raw = fields[name];
  if (raw === null || raw === undefined) return undefined;
  if (isObject(raw)) return Object.hasOwn(raw, 'value') ? (raw['value'] ?? undefined) : undefined;
  if (Array.isArray(raw)) return undefined;
  return raw;
}

/** The declared `type` of field `name` (`ENCRYPTED_BYTES`, `STRING`...), when stated. */
export function fieldType(fields: RawFields, name: string): string | undefined {
  const type = fieldWrapper(fields, name)?.['type'];
  return typeof type === 'string' ? type : undefined;
}

/** A finite number (INT64, DOUBLE, TIMESTAMP). JSON booleans read as 1/0 (kei accepts them). */
export function readNumber(fields: RawFields, name: string): number | undefined {
  const value = fieldValue(fields, name);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** An integer (INT64, TIMESTAMP); non-integers read as absent. */
export function readInteger(fields: RawFields, name: string): number | undefined {
  const value = readNumber(fields, name);
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/** A flag: on exactly when the value is `1` (or `true`); absent, null, `{value: null}` and `0` are off. */
export function readFlag(fields: RawFields, name: string): boolean {
  return readNumber(fields, name) === 1;
}

/** A non-empty string. */
export function readString(fields: RawFields, name: string): string | undefined {
  const value = fieldValue(fields, name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function referenceName(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const recordName = value['recordName'];
  return typeof recordName === 'string' && recordName !== '' ? recordName : undefined;
}

/** The `recordName` a REFERENCE field points at. */
export function readReferenceName(fields: RawFields, name: string): string | undefined {
  return referenceName(fieldValue(fields, name));
}

/** The `recordName`s of a REFERENCE_LIST field; unreadable entries are left out. */
export function readReferenceNames(fields: RawFields, name: string): string[] | undefined {
  const value = fieldValue(fields, name);
  if (!Array.isArray(value)) return undefined;
  const names = value.map(referenceName).filter((n): n is string => n !== undefined);
  return names;
}

/** An ASSETID token as Apple sends it (docs/protocol/records.md#assetid-token); every part optional until checked. */
export interface RawAssetToken {
  readonly fileChecksum?: string;
  readonly size?: number;
  readonly downloadURL?: string;
}

/** The ASSETID token of field `name`, with only its well-typed parts kept. */
export function readAssetToken(fields: RawFields, name: string): RawAssetToken | undefined {
  const value = fieldValue(fields, name);
  if (!isObject(value)) return undefined;
  const { fileChecksum, size, downloadURL } = value;
  return {
    ...(typeof fileChecksum === 'string' && fileChecksum !== '' ? { fileChecksum } : {}),
    ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
    ...(typeof downloadURL === 'string' && downloadURL !== '' ? { downloadURL } : {}),
  };
}
