/**
 * `icloud-s3 sync`: one full pipeline run on this machine (the Lambda handlers over local
 * S3/DynamoDB/SQS), with the session `icloud-s3 login` stored. State lives under `--local DIR`,
 * so the next run is incremental.
 */

import path from 'node:path';
import { Command, Option } from 'commander';
import type { SyncProgress, SyncSummary } from '#local/local-sync.ts';
import { ENV } from '#shared/env-names.ts';
import { downloadBar, TransferRate } from '../io/download-progress.ts';
import { EXIT } from '../io/exit-codes.ts';
import { integerIn, numberIn } from '../io/option-parsers.ts';
import type { Output } from '../io/output.ts';
import { formatBytes, formatDuration, ProgressLine } from '../io/progress-line.ts';
import { describeInterruptedSync } from '../io/sync-interrupted.ts';
import {
  deletePolicySetting,
  liveVideoNameSetting,
  type SyncSettingFlags,
  versionPolicySetting,
} from '../io/sync-settings.ts';
import { traceOption } from '../io/trace-option.ts';
import { plural } from '../io/words.ts';

/** Where local state lives when `--local` is not given. */
export const DEFAULT_LOCAL_DIR = '.icloud-s3';

/**
 * `--local DIR`; without it `./.icloud-s3`, or the demo's archive while the person has none of
 * their own and gave no `--session-file` either (`demoFor`, the decision `cliContext` makes).
 */
export async function localDir(globals: {
  readonly local?: string | undefined;
  readonly sessionFile?: string | undefined;
}): Promise<string> {
  if (globals.local !== undefined) return path.resolve(globals.local);
  const { demoFor } = await import('../demo-path.ts');
  return demoFor(globals)?.archive ?? path.resolve(DEFAULT_LOCAL_DIR);
}

/**
 * Most parallel download workers `--concurrency` allows. Each one holds a CDN connection and an
 * upload's parts in memory; far more than the machine has cores only adds memory (100,000 took
 * 3 GB, 1e9 never started).
 */
export const MAX_CONCURRENCY = 64;

/** `--concurrency`: a whole number from 1 to `MAX_CONCURRENCY`, or a usage error saying so. */
export const parseConcurrency = integerIn(1, MAX_CONCURRENCY);

/** How a person says each kind of change (`classifyChange`). */
const CHANGE_WORDS: Readonly<Record<string, string>> = {
  new: 'new',
  edited: 'edited',
  editReverted: 'edit reverted',
  trashed: 'moved to Recently Deleted',
  restored: 'restored',
  purged: 'purged',
  hidden: 'hidden',
  unhidden: 'unhidden',
  metadataChanged: 'favourite changed',
  albumAdded: 'added to an album',
  albumRemoved: 'removed from an album',
  albumChanged: 'album changed',
  movedToSharedLibrary: 'moved to the Shared Library',
  movedToPersonalLibrary: 'moved to a personal library',
};

/** Endpoints that fetch bytes or refresh their URLs; everything else is asking what changed. */
const DOWNLOAD_ENDPOINTS = new Set(['cdn', 'records/lookup']);

/** `2 requests to Apple (changes/database 1, changes/zone 1)` for the given endpoints. */
function requestPhrase(
  requests: Readonly<Record<string, number>>,
  keep: (endpoint: string) => boolean,
): string {
  const entries = Object.entries(requests).filter(([endpoint]) => keep(endpoint));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const detail = entries.map(([endpoint, n]) => `${endpoint} ${n}`).join(', ');
  return `${plural(total, 'request')} to Apple${detail ? ` (${detail})` : ''}`;
}

/** The prose summary of one run. */
export function describeSummary(output: Output, summary: SyncSummary): void {
  const a = summary.assets;
  const detection = requestPhrase(summary.appleRequests, (e) => !DOWNLOAD_ENDPOINTS.has(e));
  const downloads = requestPhrase(summary.appleRequests, (e) => DOWNLOAD_ENDPOINTS.has(e));
  // A dry run asked the account for the Shared Albums service, and stored nothing.
  const lookup = summary.sharedAlbumsServiceLookup;
  if (lookup !== undefined)
    output.info(
      `Shared Albums: the session names no service; the account, asked, lists ${lookup === 'found' ? 'it: a run would store it in the session' : 'none: a run would ask again in a day'}.`,
    );
  if (summary.outcome === 'idle') {
    output.success(`Nothing changed in iCloud: ${detection}, ${formatDuration(summary.durationMs)}.`);
    return;
  }
  const verb = summary.dryRun ? 'Would archive' : 'Archived';
  // Under `keep` a purge is recorded and its objects stay: never reported as deleted.
  const kept = (a.purgedKept ?? 0) > 0 ? `${a.purgedKept} purged in iCloud, kept, ` : '';
  output.success(
    `${verb} ${plural(a.archived, 'asset')} (${plural(summary.versionsArchived, 'file')}, ${formatBytes(summary.bytesArchived)}); ` +
      `${a.updated} updated without downloading, ${a.skipped} already archived, ${a.deleted} purged in iCloud and deleted${a.deleted > 0 ? ` (${plural(a.objectsDeleted ?? 0, 'file')})` : ''}, ${kept}${a.failed} failed.`,
  );
  const kinds = Object.entries(summary.changes ?? {})
    .filter(([kind, n]) => kind !== 'unchanged' && n > 0)
    .map(([kind, n]) => `${n} ${CHANGE_WORDS[kind] ?? kind}`);
  if (kinds.length > 0) output.info(`  What changed: ${kinds.join(', ')}.`);
  const shared = summary.sharedAlbums;
  if (shared !== undefined) {
    const deleted =
      (shared.objectsDeleted ?? 0) > 0 ? `, ${plural(shared.objectsDeleted ?? 0, 'file')} deleted` : '';
    output.info(
      `  Shared Albums: ${summary.dryRun ? 'would archive' : 'archived'} ${plural(shared.itemsArchived, 'item')} (${formatBytes(shared.bytesArchived)}), ` +
        `${shared.itemsUpdated} updated without downloading, ${shared.itemsRemoved} removed from their albums${deleted}.`,
    );
  }
  output.info(
    `  Finding the changes: ${detection}. Downloads: ${downloads}. ${formatDuration(summary.durationMs)}.`,
  );
  if ((a.awaitingUrl ?? 0) > 0) {
    output.warn(
      `${plural(a.awaitingUrl ?? 0, 'asset')} not archived whole: iCloud lists a version without a download URL. Later syncs look again and archive it once Apple offers one (verify lists them).`,
    );
  }
  if (summary.deadLetters > 0) {
    output.warn(
      `${summary.deadLetters} work message(s) failed 5 times; they are kept in the data folder and the next syncs try them again.`,
    );
  }
  for (const failure of summary.failures.slice(0, 5)) output.warn(`${failure.subject}: ${failure.reason}`);
}

/** A setting that shapes the archive changed with this run: what the photos archived before lack. */
export function describeSettingsChanged(output: Output, summary: SyncSummary): void {
  for (const notice of summary.settingsChanged ?? [])
    output.warn(`${notice.message}${notice.action === undefined ? '' : ` Run: ${notice.action}`}`);
}

export function syncCommand(): Command {
  return new Command('sync')
    .description('run the whole pipeline once on this machine (local S3, DynamoDB and SQS)')
    .option('--dry-run', 'show what would be archived; write and download nothing')
    .addOption(
      new Option('--delete-policy <policy>', `keep or mirror (default $${ENV.deletePolicy} or keep)`).choices(
        ['keep', 'mirror'],
      ),
    )
    .addOption(
      new Option(
        '--max-delete-fraction <share>',
        `mirror: refuse a run deleting more than this share of the archive (default $${ENV.maxDeleteFraction} or 0.05)`,
      ).argParser(numberIn(0, 1)),
    )
    .addOption(
      new Option(
        '--max-delete-count <objects>',
        `mirror: refuse a run deleting more than this many objects (default $${ENV.maxDeleteCount} or 1000)`,
      ).argParser(integerIn(0, Number.MAX_SAFE_INTEGER)),
    )
    .option(
      '--versions <policy>',
      `which versions to archive, e.g. "default,medium" (see docs/archive-layout.md; default $${ENV.versionPolicy} or default)`,
    )
    .option(
      '--live-video-name <naming>',
      `a HEIC Live Photo's video: suffix (IMG_0001_HEVC.MOV) or original (IMG_0001.MOV); new objects only (default $${ENV.liveVideoName} or suffix)`,
    )
    .option('--no-shared-albums', 'leave Shared Albums alone (no request, no work)')
    .addOption(
      new Option(
        '--shared-albums-every <minutes>',
        'list Shared Albums at most this often (default 0: every run; one request when nothing changed)',
      ).argParser(numberIn(0, 10_080)),
    )
    .option(
      '--xmp-sidecars',
      `write an XMP sidecar (<original>.xmp) beside each original (default $${ENV.xmpSidecars} or off)`,
    )
    .addOption(
      new Option('--concurrency <n>', `parallel downloads, 1 to ${MAX_CONCURRENCY}`)
        .default(4)
        .argParser(parseConcurrency),
    )
    .addOption(traceOption())
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 sync                     archive into ./${DEFAULT_LOCAL_DIR}
  npx icloud-s3 sync --local ~/photo-archive --json
  npx icloud-s3 sync --dry-run           what would change, without changing anything
  npx icloud-s3 sync --trace sync-trace.json
                                         a redacted transcript of every exchange with Apple (downloads: size only)

Exit codes: 0 done (or nothing changed), 1 some work failed or is left for the next run, or a mass deletion
was refused, 3 iCloud needs you to log in again.`,
    )
    .action(async (options: Record<string, string | number | boolean | undefined>, command: Command) => {
      // Imported here, not above: `sync --help` loads none of what a run needs (issue 12).
      const [{ cliContext }, { errorResult }, { exitOnInterrupt }, { syncStopReason }, { runLocalSync }] =
        await Promise.all([
          import('../context.ts'),
          import('../io/error-report.ts'),
          import('../io/interrupt.ts'),
          import('../io/sync-stop.ts'),
          import('#local/local-sync.ts'),
        ]);
      const ctx = cliContext(command);
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      const progress = new ProgressLine();
      const rate = new TransferRate();
      let last: SyncProgress | undefined;
      const keepRunning = exitOnInterrupt(
        ctx.output,
        () => {
          progress.done();
          return describeInterruptedSync(last);
        },
        'Run npx icloud-s3 sync again: it continues where this run stopped.',
      );
      const summary = await runLocalSync({
        dataDir: await localDir(globals),
        endpoint: await ctx.endpoint(),
        store: ctx.store,
        logger: ctx.logger,
        ...(ctx.observer ? { observer: ctx.observer } : {}),
        // Flags, then the variables the deployed functions read, then the defaults (io/sync-settings.ts).
        deletePolicy: deletePolicySetting(options as SyncSettingFlags),
        versionPolicy: versionPolicySetting(options as SyncSettingFlags),
        liveVideoName: liveVideoNameSetting(options as SyncSettingFlags),
        sharedAlbums: {
          enabled: options.sharedAlbums !== false,
          cadenceMs: Math.round(Number(options.sharedAlbumsEvery ?? 0) * 60_000),
        },
        xmpSidecars: Boolean(options.xmpSidecars) || process.env[ENV.xmpSidecars] === 'true',
        dryRun: Boolean(options.dryRun),
        concurrency: options.concurrency as number,
        onProgress: (p) => {
          last = p;
          if (p.phase === 'detecting')
            progress.update(`Asking iCloud what changed… ${p.itemsEnqueued} found`, 0);
          else if (p.phase === 'downloading') {
            const bar = downloadBar(p, rate.sample(p.bytesDownloaded, Date.now()));
            progress.update(bar.label, bar.done, bar.total);
          }
        },
      });
      keepRunning();
      progress.done();
      const stopped = syncStopReason(summary);
      ctx.output.result({
        status: summary.outcome,
        ...summary,
        ...(stopped === undefined ? {} : { error: errorResult(stopped)['error'] }),
      });
      if (!ctx.output.json) describeSummary(ctx.output, summary);
      // On stderr, with --json too (the notices are in the result as well).
      describeSettingsChanged(ctx.output, summary);
      if (stopped !== undefined) {
        ctx.output.error(stopped.message, stopped.hint ?? undefined);
        process.exitCode = stopped.exitCode;
      } else if (summary.outcome === 'partial' || summary.assets.failed > 0 || summary.deadLetters > 0) {
        // `partial` always exits 1 (io/result-status.ts): work failed or is left for the next run.
        process.exitCode = EXIT.failure;
      }
    });
}
