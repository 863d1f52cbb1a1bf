/**
 * What `POST /__sim/faults` accepts. A fault matches requests by endpoint key (the `/stats` key, or
 * `*`), optionally narrowed by host, method, path or User-Agent substring, fires `count` times (default:
 * until cleared) with `probability` (default 1), and then either replaces the answer (`status`,
 * `body`, or a preset `mode`), slows it (`delayMs`), adds `headers`, or damages its body on the wire
 * (`reset-mid-body`, `truncate-body`, `slow-body`), which works on streamed CDN bodies too.
 */
import * as z from 'zod';

export const REPLY_MODES = [
  'srp-503',
  'wrong-password-401',
  'stale-context-401',
  'bare-403',
  'no-auth-method-401',
  'missing-user-cookie-421',
  'missing-token-cookie-421',
  'try-again-later',
  'html-200',
  'short-17',
] as const;
export const BODY_MODES = ['reset-mid-body', 'truncate-body', 'slow-body'] as const;
export const CONNECTION_MODES = ['reset'] as const;

export const FaultSpecSchema = z.strictObject({
  endpoint: z.string().min(1),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  contentType: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Sets `Retry-After` (seconds). */
  retryAfter: z.number().int().nonnegative().optional(),
  delayMs: z.number().int().nonnegative().max(600_000).optional(),
  count: z.number().int().positive().optional(),
  probability: z.number().min(0).max(1).optional(),
  mode: z.enum([...REPLY_MODES, ...BODY_MODES, ...CONNECTION_MODES]).optional(),
  /** Body modes: bytes sent before the damage (default: half the body). */
  afterBytes: z.number().int().nonnegative().optional(),
  /** `slow-body`: chunk size and the pause between chunks. */
  chunkBytes: z.number().int().positive().optional(),
  chunkDelayMs: z.number().int().nonnegative().optional(),
  host: z.string().optional(),
  /** Only requests with this HTTP method (e.g. `PUT`: the 2026 code trigger shares its key with the code submit). */
  method: z.string().toUpperCase().optional(),
  pathContains: z.string().optional(),
  userAgentContains: z.string().optional(),
});

export type FaultSpec = z.infer<typeof FaultSpecSchema>;
export type BodyMode = (typeof BODY_MODES)[number];

export const isBodyMode = (m: string | undefined): m is BodyMode =>
  m !== undefined && (BODY_MODES as readonly string[]).includes(m);
