/**
 * Apple signals failure four ways (docs/protocol/sign-in.md#error-signals): the HTTP status, a 200 whose `X-Apple-I-Rscd`
 * header carries the real status, a 200 JSON body with `hasError` / `service_errors` /
 * `serviceErrors`, and a setup-style 200 body with `success: false`. These helpers read all four.
 */
import type { IcloudHttpResponse } from '../http/types.ts';

export interface AppleError {
  readonly code?: string;
  readonly message?: string;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/** The status Apple meant: `X-Apple-I-Rscd` when a 2xx carries one, else the HTTP status. */
export function effectiveStatus(response: IcloudHttpResponse): number {
  const rscd = Number(response.headers.get('x-apple-i-rscd'));
  if (response.status >= 200 && response.status < 300 && Number.isInteger(rscd) && rscd >= 400) return rscd;
  return response.status;
}

/** Every error Apple put in a JSON body (empty when the body reports none). */
export function appleErrorsOf(body: unknown): AppleError[] {
  if (typeof body !== 'object' || body === null) return [];
  const record = body as Record<string, unknown>;
  const errors: AppleError[] = [];
  for (const key of ['service_errors', 'serviceErrors']) {
    const list = record[key];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const e = item as Record<string, unknown>;
      const code = str(e['code']);
      const message = str(e['message']) ?? str(e['title']);
      errors.push({ ...(code ? { code } : {}), ...(message ? { message } : {}) });
    }
  }
  if (record['success'] === false) {
    const code = str(record['errorCode']) ?? str(record['serverErrorCode']);
    const message =
      str(record['error']) ??
      str(record['errorMessage']) ??
      str(record['reason']) ??
      str(record['errorReason']);
    errors.push({ ...(code ? { code } : {}), ...(message ? { message } : {}) });
  }
  if (errors.length === 0 && record['hasError'] === true) errors.push({});
  return errors;
}

/** Reads a JSON body, or undefined when there is none or it is not JSON. */
export async function jsonOrUndefined(response: IcloudHttpResponse): Promise<unknown> {
  const text = await response.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short description of Apple's errors for a message: codes only (Apple's messages may echo input). */
export function describeAppleErrors(errors: readonly AppleError[]): string {
  const codes = errors.map((e) => e.code).filter((c): c is string => c !== undefined);
  return codes.length ? `Apple error ${codes.join(', ')}` : 'no error code';
}
