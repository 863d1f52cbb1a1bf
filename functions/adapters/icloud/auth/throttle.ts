/**
 * Apple's SRP throttle (docs/protocol/limits.md#throttling): a 503 on sign-in means "stop for a long while"; every further
 * attempt extends the block. We record `throttledUntil` in the session and refuse to sign in
 * before it, so neither a retry loop nor the next scheduled run makes it worse.
 */
import { RateLimitedError } from '#domain/errors.ts';
import { parseRetryAfter } from '#shared/retry.ts';
import type { IcloudHttpResponse } from '../http/types.ts';
import type { AuthContext } from './auth-context.ts';

/**
 * Apple throttling sign-in itself: a `RateLimitedError` (same name, same classification) that no
 * in-process retry may act on. The window lasts 15 minutes or more and every attempt extends it,
 * so a retry loop that signs in again after its capped wait (120 s) only keeps the block alive;
 * the run stops instead, and the next one is refused before any request until the window ends.
 */
export class SignInThrottledError extends RateLimitedError {}

/** How long we stay away after a 503 when Apple gives no Retry-After (docs/protocol/limits.md#retry-policies recommendation). */
export const SIGN_IN_THROTTLE_MS = 15 * 60 * 1000;

/** Throws if a stored throttle window is still open. */
export function assertNotThrottled(ctx: AuthContext): void {
  const until = ctx.session.fields.throttledUntil;
  const now = ctx.now();
  if (until !== undefined && until > now) {
    throw new SignInThrottledError(
      `Apple is throttling sign-in for this Apple ID; icloud-s3 will not try again before ${new Date(until).toISOString()}.`,
      { retryAfterSeconds: Math.ceil((until - now) / 1000) },
    );
  }
}

/** Records the throttle window a 429/503 opened and returns the error to throw. */
export function recordThrottle(
  ctx: AuthContext,
  response: IcloudHttpResponse,
  step: string,
): SignInThrottledError {
  const now = ctx.now();
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now);
  const until = now + Math.max(retryAfter ?? 0, SIGN_IN_THROTTLE_MS);
  ctx.session.update({ throttledUntil: until });
  ctx.logger.warn('sign-in throttled', {
    step,
    status: response.status,
    until: new Date(until).toISOString(),
  });
  return new SignInThrottledError(
    `Apple is throttling sign-in (HTTP ${response.status} at ${step}); icloud-s3 stops and will not try again before ${new Date(until).toISOString()}.`,
    { retryAfterSeconds: Math.ceil((until - now) / 1000) },
  );
}
