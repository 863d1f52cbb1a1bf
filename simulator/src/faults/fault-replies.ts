/**
 * The answers a fault puts in place of the real one: an explicit `status`/`body`, or one of the
 * presets of docs/protocol/limits.md#failure-modes / S117 in docs/protocol/simulator-contract.md#control-plane (`mode`).
 */
import { randomUUID } from 'node:crypto';
import type { HostRole } from '../hosts.ts';
import type { SimReply } from '../types.ts';
import { empty, json, text } from '../types.ts';
import type { FaultSpec } from './fault-spec.ts';

const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>';

function presetReply(mode: FaultSpec['mode'], role: HostRole | undefined): SimReply | undefined {
  const missing = (cookie: string): SimReply =>
    role === 'setup'
      ? json({ success: false, error: `Missing ${cookie} cookie` }, 421)
      : json({ reason: `Missing ${cookie} cookie`, error: 1 }, 421);
  switch (mode) {
    case 'srp-503':
      return text('Service Temporary Unavailable', 503, 'text/html');
    case 'wrong-password-401':
      return json(
        {
          serviceErrors: [
            {
              code: '-20101',
              message: 'Enter the email or phone number and password for your Apple Account.',
              suppressDismissal: false,
            },
          ],
        },
        401,
      );
    case 'stale-context-401':
      return json({}, 401);
    case 'bare-403':
      return empty(403);
    case 'no-auth-method-401':
      return json(
        { uuid: randomUUID(), serverErrorCode: 'AUTHENTICATION_FAILED', reason: 'no auth method found' },
        401,
      );
    case 'missing-user-cookie-421':
      return missing('X-APPLE-WEBAUTH-USER');
    case 'missing-token-cookie-421':
      return missing('X-APPLE-WEBAUTH-TOKEN');
    case 'try-again-later':
      return json({ serverErrorCode: 'TRY_AGAIN_LATER', reason: 'Sync zone CAS Op-Lock failed' }, 200);
    case 'html-200':
      return text(HTML_ERROR_PAGE, 200, 'text/html; charset=utf-8');
    case 'short-17':
      return text('Too Many Requests', 200, 'text/plain');
    default:
      return undefined;
  }
}

function explicitReply(spec: FaultSpec): SimReply | undefined {
  if (spec.status === undefined && spec.body === undefined) return undefined;
  const status = spec.status ?? 200;
  if (spec.body === undefined) return empty(status);
  if (typeof spec.body === 'string') return text(spec.body, status, spec.contentType ?? 'text/plain');
  return {
    status,
    body: { kind: 'json', value: spec.body, ...(spec.contentType ? { contentType: spec.contentType } : {}) },
  };
}

/** The reply a fault substitutes, or undefined when it lets the real handler answer. */
export function faultReply(spec: FaultSpec, role: HostRole | undefined): SimReply | undefined {
  const reply = explicitReply(spec) ?? presetReply(spec.mode, role);
  if (!reply) return undefined;
  return withFaultHeaders(spec, reply);
}

/** Adds the fault's `headers` and `Retry-After` to a reply (a substituted or the real one). */
export function withFaultHeaders(spec: FaultSpec, reply: SimReply): SimReply {
  if (!spec.headers && spec.retryAfter === undefined) return reply;
  return {
    ...reply,
    headers: {
      ...reply.headers,
      ...spec.headers,
      ...(spec.retryAfter === undefined ? {} : { 'Retry-After': String(spec.retryAfter) }),
    },
  };
}
