/**
 * Why a `sync` run stopped short for a person, as the same error report every `--json` failure
 * uses (io/error-report.ts): a refused mass deletion, iCloud asking for a new sign-in, or iCloud not
 * serving the photo library (a setting helps there, not a sign-in).
 */
import { PHOTOS_UNAVAILABLE_HINT } from '#domain/errors.ts';
import { describeLimitsToAllow, type LimitsToAllow } from '#domain/plan/delete-policy.ts';
import type { SyncSummary } from '#local/local-sync.ts';
import { asTyped } from './command-line.ts';
import { type ErrorReport, PHOTOS_UNAVAILABLE_FIX } from './error-report.ts';
import { EXIT } from './exit-codes.ts';

/**
 * What lets a refused purge through, exactly: the options (and their variables) at the least
 * values that pass it. A later page of the same purge may need more; the next stop says so.
 */
function letThroughHint(allow: LimitsToAllow | undefined): string {
  const flags = [
    ...(allow?.maxDeleteCount === undefined ? [] : [`--max-delete-count ${allow.maxDeleteCount}`]),
    ...(allow?.maxDeleteFraction === undefined ? [] : [`--max-delete-fraction ${allow.maxDeleteFraction}`]),
  ];
  if (flags.length === 0)
    return 'Check what was purged in iCloud, then rerun with a higher --max-delete-count or --max-delete-fraction to let it through.';
  return `Check what was purged in iCloud; if it is right, rerun with ${flags.join(' ')} (or ${describeLimitsToAllow(allow ?? {})}) to let it through, then go back to your usual limits.`;
}

export function syncStopReason(summary: SyncSummary): ErrorReport | undefined {
  if (summary.outcome === 'deletionRefused') {
    const refused = summary.deletionRefused;
    return {
      code: 'deletion-refused',
      message: refused
        ? `Refused to delete ${refused.wouldDelete} of ${refused.archiveObjects} archived objects (at most ${refused.limit} per run); ${refused.queued ? `${refused.queued} were queued for deletion before the stop` : 'nothing was deleted'} and the sync stopped there.`
        : 'Refused a mass deletion; nothing was deleted.',
      hint: letThroughHint(refused?.allow),
      exitCode: EXIT.failure,
    };
  }
  if (summary.outcome === 'reauthRequired') {
    const message = summary.message ?? 'iCloud needs you to sign in again';
    return {
      code: 'needs-login',
      message,
      // iCloud not serving the photo library (every such message carries the hint): a setting helps, not a sign-in.
      hint: message.includes(PHOTOS_UNAVAILABLE_HINT)
        ? PHOTOS_UNAVAILABLE_FIX
        : `Run: ${asTyped(summary.action ?? 'icloud-s3 login')}`,
      exitCode: EXIT.needsLogin,
    };
  }
  return undefined;
}
