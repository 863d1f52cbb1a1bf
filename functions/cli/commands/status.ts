/**
 * `icloud-s3 status`: how the archive stands, from the state store alone (no request to Apple):
 * the last runs, each zone's token age and first-sync progress, counts and size, queue depths
 * (deployed stack), and when Apple's trust in the stored sign-in runs out.
 */

// What the command does is imported when it runs: `status --help` loads no AWS SDK (issue 12).
import { Command, Option } from 'commander';
import type { ArchiveAccess, QueueDepth } from '#compose/archive-access.ts';
import { type AlbumSummary, summariseAlbums } from '#domain/albums/album-summary.ts';
import { settingsNotices } from '#domain/model/archive-settings.ts';
import type { SharedAlbumsStatus } from '#domain/shared-albums/shared-albums-status.ts';
import type { ArchiveStatus, RunStatus } from '#domain/verify/archive-status.ts';
import type { AlbumStore } from '#ports/album-store.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { DEFAULT_STACK_NAME, ENV } from '#shared/env-names.ts';
import { asTyped } from '../io/command-line.ts';
import { UsageError } from '../io/exit-codes.ts';
import { integerIn } from '../io/option-parsers.ts';
import type { Output } from '../io/output.ts';
import { formatBytes, formatDuration } from '../io/progress-line.ts';
import { describeTrust } from '../io/trust-text.ts';
import { grouped as count } from '../io/words.ts';
import { localDir } from './sync.ts';

export interface AwsTargetOptions {
  readonly aws?: boolean;
  readonly region?: string;
  readonly profile?: string;
  readonly stack?: string;
  readonly bucket?: string;
  readonly table?: string;
  readonly sessionSecret?: string;
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
}

interface StatusOptions extends AwsTargetOptions {
  readonly runs: number;
}

/** `--aws` and the resource names it reads (shared with `verify`). */
export function addAwsTargetOptions(command: Command): Command {
  return command
    .option('--aws', 'read the deployed stack (default credentials and region) instead of --local')
    .option('--region <region>', "with --aws: the stack's AWS region (else AWS_REGION or the profile's)")
    .option('--profile <name>', 'with --aws: the AWS profile whose credentials to use (else AWS_PROFILE)')
    .option(
      '--stack <name>',
      `with --aws: the stack whose outputs name everything below (default ${DEFAULT_STACK_NAME})`,
    )
    .option(
      '--bucket <name>',
      `with --aws: the archive bucket (stack output ArchiveBucketName; env ARCHIVE_BUCKET)`,
    )
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName; env STATE_TABLE)')
    .option('--session-secret <id>', 'with --aws: the session secret (stack output SessionSecretName)')
    .option('--queue-url <url>', 'with --aws: the work queue (stack output WorkQueueUrl)')
    .option(
      '--dead-letter-queue-url <url>',
      'with --aws: its dead-letter queue (stack output DeadLetterQueueUrl)',
    );
}

/** Opens what `--aws` or `--local` names (`--local` is the default; `localDir` without it). */
export async function openTarget(
  options: AwsTargetOptions,
  globals: { readonly local?: string | undefined; readonly sessionFile?: string | undefined },
): Promise<ArchiveAccess> {
  const { awsArchiveNames, openAwsArchive, openLocalArchive } = await import('#compose/archive-access.ts');
  if (!options.aws) return openLocalArchive(await localDir(globals));
  if (globals.local !== undefined) throw new UsageError('pass either --aws or --local, not both');
  const { describeStack } = await import('#compose/deployed-stack.ts');
  // Without explicit names, the stack's outputs (or the Lambda environment variables) name them.
  const explicit =
    options.bucket !== undefined || options.table !== undefined || process.env[ENV.archiveBucket];
  const account = { region: options.region, profile: options.profile };
  const stack = explicit ? undefined : await describeStack(options.stack, account);
  return openAwsArchive(
    awsArchiveNames({
      ...(stack === undefined
        ? {}
        : {
            bucket: stack.bucket,
            table: stack.table,
            sessionSecretId: stack.sessionSecretId,
            queueUrl: stack.queueUrl,
            deadLetterQueueUrl: stack.deadLetterQueueUrl,
          }),
      ...(options.bucket === undefined ? {} : { bucket: options.bucket }),
      ...(options.table === undefined ? {} : { table: options.table }),
      ...(options.sessionSecret === undefined ? {} : { sessionSecretId: options.sessionSecret }),
      ...(options.queueUrl === undefined ? {} : { queueUrl: options.queueUrl }),
      ...(options.deadLetterQueueUrl === undefined ? {} : { deadLetterQueueUrl: options.deadLetterQueueUrl }),
    }),
    account,
  );
}

/** The session's reauth latch: a run found that only a person can sign in again. */
interface SignInNeeded {
  readonly since: number;
  readonly reason: string;
}

/** Trust expiry, last validation and the reauth latch from the stored session; nothing when there is none or it is unreadable. */
async function sessionTimes(
  store: SessionStore,
): Promise<{ trustExpiresAt?: number; lastValidatedAt?: number; signInNeeded?: SignInNeeded }> {
  try {
    const stored = await store.load();
    if (stored === undefined) return {};
    const [{ TRUST_LIFETIME_MS }, { parseSessionDocument }] = await Promise.all([
      import('#adapters/icloud/session/icloud-session.ts'),
      import('#adapters/icloud/session/session-schema.ts'),
    ]);
    const document = parseSessionDocument(stored.document);
    return {
      ...(document.trustTokenIssuedAt === undefined
        ? {}
        : { trustExpiresAt: document.trustTokenIssuedAt + TRUST_LIFETIME_MS }),
      ...(document.lastValidatedAt === undefined ? {} : { lastValidatedAt: document.lastValidatedAt }),
      ...(document.signInNeeded === undefined ? {} : { signInNeeded: document.signInNeeded }),
    };
  } catch {
    return {};
  }
}

export function statusCommand(): Command {
  return addAwsTargetOptions(
    new Command('status').description('show the last runs, zone progress, archive size and trust expiry'),
  )
    .addOption(
      new Option('--runs <n>', 'how many recent runs to show').default(5).argParser(integerIn(1, 100)),
    )
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 status                   the local archive in ./.icloud-s3
  npx icloud-s3 status --local ~/photo-archive --json
  npx icloud-s3 status --aws --stack IcloudS3
  npx icloud-s3 status --aws --bucket my-archive --table my-state --session-secret icloud-s3/session

Exit codes: 0 shown, 1 the state could not be read, 2 usage (no archive at --local DIR).`,
    )
    .action(async (options: StatusOptions, command: Command) => {
      const [{ cliContext }, { archiveStatus, ManifestTally }, { sharedAlbumsStatus }] = await Promise.all([
        import('../context.ts'),
        import('#domain/verify/archive-status.ts'),
        import('#domain/shared-albums/shared-albums-status.ts'),
      ]);
      const ctx = cliContext(command);
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      const access = await openTarget(options, globals);
      try {
        const now = Date.now();
        const { state } = access;
        const [
          runs,
          { zones, retries },
          counters,
          ownDb,
          sharedDb,
          times,
          queue,
          lastCheck,
          sharedList,
          left,
          settings,
        ] = await Promise.all([
          state.listRuns(options.runs),
          state.loadZonesAndRetries(),
          state.getCounters(),
          state.loadDatabaseState('private'),
          state.loadDatabaseState('shared'),
          sessionTimes(access.session ?? ctx.store),
          access.queueDepth?.(),
          state.loadLastCheck(),
          access.sharedAlbumState?.loadAlbums(),
          access.dataDir === undefined ? undefined : leftBySync(access.dataDir),
          state.loadArchiveSettings(),
        ]);
        const lastCheckedAt = lastCheck.at;
        const sharedAlbums = sharedAlbumsStatus(sharedList, lastCheck.sharedAlbumsFailing);
        const { signInNeeded: latch, ...sessionFacts } = times;
        const signInNeeded =
          latch === undefined
            ? null
            : { ...latch, action: access.session ? 'icloud-s3 login --aws' : 'icloud-s3 login' };
        const tally = new ManifestTally();
        for await (const entry of state.entries()) tally.add(entry);
        const albums = await albumSummary(access.albums);
        const status = archiveStatus({
          now,
          runs,
          zones,
          counters,
          databases: [ownDb, sharedDb].filter((db) => db !== undefined),
          manifest: tally.summary(),
          failed: tally.failed(),
          retries,
          ...sessionFacts,
          syncUnfinished: left?.unfinishedSync !== undefined,
        });
        ctx.output.result({
          status: 'ok',
          archive: access.where,
          ...status,
          queue: queue ?? null,
          unfinishedSync: left?.unfinishedSync ?? null,
          syncRunning: left?.syncRunning ?? null,
          parkedWork: left?.parkedWork ?? null,
          lastCheckedAt: lastCheckedAt ?? null,
          signInNeeded,
          sharedAlbums,
          albums,
          // The settings the archive was last synced with, and what a change of them left to do.
          settings:
            settings === undefined
              ? null
              : {
                  versionPolicy: settings.versionPolicy,
                  xmpSidecars: settings.xmpSidecars,
                  deletePolicy: settings.deleteMode,
                  notices: settingsNotices(settings, { now }).map((n) => ({
                    ...n,
                    since: new Date(n.since).toISOString(),
                  })),
                },
        });
        if (!ctx.output.json) {
          render(ctx.output, access.where, status, queue);
          if (left !== undefined) renderLeft(ctx.output, left);
          renderAlbums(ctx.output, albums);
          ctx.output.info(lastCheckLine(lastCheckedAt, now));
          if (sharedAlbums.albums + sharedAlbums.gone > 0) ctx.output.info(sharedAlbumsLine(sharedAlbums));
          if (sharedAlbums.legacyServiceMissingSince !== undefined)
            ctx.output.info(
              `${'Shared'.padEnd(9)} your iCloud account lists no service for older Shared Albums (asked ${sharedAlbums.legacyServiceMissingSince}; asked again a day later): those albums are not archived`,
            );
          if (sharedAlbums.failing !== undefined) renderSharedAlbumsFailing(ctx.output, sharedAlbums.failing);
          if (signInNeeded) {
            renderSignInNeeded(ctx.output, signInNeeded);
          }
          for (const notice of settingsNotices(settings, { now }))
            ctx.output.warn(
              `${notice.message} (since ${new Date(notice.since).toISOString()})${notice.action === undefined ? '' : ` Run: ${notice.action}`}`,
            );
        }
      } finally {
        await access.close();
      }
    });
}

/** One line: albums, items, and that they are reduced copies (said plainly, issue 15). */
function sharedAlbumsLine(s: SharedAlbumsStatus): string {
  const gone = s.gone > 0 ? `, ${count(s.gone)} gone` : '';
  const pending = s.pending > 0 ? `, ${count(s.pending)} with changes not archived yet` : '';
  return `${'Shared'.padEnd(9)} ${count(s.albums)} albums (${count(s.owned)} yours, ${count(s.joined)} joined${gone}${pending}), ${count(s.items)} items, ${count(s.reducedItems)} of them reduced copies: ${s.note}`;
}

/** The Shared Albums step failing on every run: nothing new of theirs is archived meanwhile. */
function renderSharedAlbumsFailing(
  output: Output,
  failing: NonNullable<SharedAlbumsStatus['failing']>,
): void {
  const told =
    failing.reportedAt === undefined
      ? 'the WorkGivenUp alarm is raised after a day'
      : `WorkGivenUp raised ${when(Date.parse(failing.reportedAt))} UTC`;
  output.warn(
    `Shared Albums have failed on every run since ${when(Date.parse(failing.since))} UTC (last ${when(Date.parse(failing.lastFailedAt))} UTC, ${failing.errorClass}: ${failing.message}); ${told}. Nothing new of theirs is archived until the cause is fixed (the detector's logs say more).`,
  );
}

/** The album store in short: one Query for the albums, one per album for its members. */
async function albumSummary(store: AlbumStore): Promise<AlbumSummary> {
  const albums = await store.loadAlbums();
  const counts = new Map<string, number>();
  for (const album of albums) {
    if (album.deleted || album.kind !== 'album') continue;
    counts.set(album.recordName, (await store.albumMembers(album)).length);
  }
  return summariseAlbums(albums, counts);
}

/** Albums shown per line (the JSON has them all). */
const ALBUM_LINES = 20;

function renderAlbums(output: Output, albums: AlbumSummary): void {
  const label = 'Albums'.padEnd(9);
  if (albums.list.length === 0) {
    output.info(`${label} none`);
    return;
  }
  const smart = albums.smartAlbums > 0 ? `, ${count(albums.smartAlbums)} smart` : '';
  const waiting = albums.waiting > 0 ? `, ${count(albums.waiting)} waiting for photos` : '';
  output.info(
    `${label} ${count(albums.albums)} in ${count(albums.folders)} folders${smart}; ${count(albums.views)} views${waiting}`,
  );
  const shown = albums.list.filter((a) => a.kind !== 'folder');
  for (const album of shown.slice(0, ALBUM_LINES)) {
    const place = [...album.folders, album.name].join(' / ');
    const size = album.kind === 'album' ? `${count(album.members)} photos` : album.kind;
    output.info(`${''.padEnd(9)}   ${place}  (${size})`);
  }
  if (shown.length > ALBUM_LINES)
    output.info(`${''.padEnd(9)}   … ${shown.length - ALBUM_LINES} more (--json lists all)`);
}

/** When detection last asked iCloud, idle checks included (one small write each). */
function lastCheckLine(at: number | undefined, now: number): string {
  const text = at === undefined ? 'not yet' : `${when(at)} UTC (${formatAge(now - at)} ago)`;
  return `${'Checked'.padEnd(9)} ${text}`;
}

/** `45 s`, `12 min`, `5 h`, `3 days`: coarse, for ages that may span weeks. */
function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} days`;
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

function runLine(run: RunStatus): string {
  const counts = Object.entries(run.counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${count(n)}`)
    .join(', ');
  const failures =
    run.failureCount > 0 ? `, ${run.failureCount} failure${run.failureCount === 1 ? '' : 's'}` : '';
  return `${when(run.startedAt)}  ${run.kind.padEnd(8)} ${run.outcome.padEnd(14)} ${formatDuration(run.durationMs).padStart(8)}  ${counts}${failures}`;
}

const PROGRESS_TEXT = {
  caughtUp: 'caught up',
  firstSyncInProgress: 'first sync in progress',
  neverSynced: 'not synced yet',
  retired: 'gone from iCloud',
  syncUnfinished: 'last sync unfinished',
} as const;

function render(output: Output, where: string, status: ArchiveStatus, queue: QueueDepth | undefined): void {
  const label = (text: string) => text.padEnd(9);
  const { manifest, counters, trust } = status;
  output.info(`${label('Archive')} ${where}`);
  output.info(
    `${label('Objects')} ${count(manifest.objects)} (${formatBytes(manifest.bytes)}); counters ${count(counters.objects)} (${formatBytes(counters.bytes)})`,
  );
  const byStatus = Object.entries(manifest.byStatus)
    .filter(([name, n]) => n > 0 || name === 'archived')
    .map(([name, n]) => `${count(n)} ${name}`)
    .join(', ');
  output.info(`${label('Assets')} ${count(manifest.entries)}: ${byStatus}`);
  if (status.zones.length === 0) output.info(`${label('Zones')} none synced yet`);
  status.zones.forEach((zone, i) => {
    // A Shared Library zone is `SharedSync-<UUID>`: its first block is enough to tell them apart.
    const short = zone.zoneName.replace(/^(SharedSync-[0-9A-F]{8})-[-0-9A-F]+$/i, '$1…');
    const name = `${short}${zone.database === 'shared' ? ' (shared)' : ''}`;
    const waiting =
      (zone.awaitingUrl === undefined
        ? ''
        : `; ${count(zone.awaitingUrl)} waiting for iCloud to offer a download URL`) +
      (zone.unreadable === undefined ? '' : `; ${count(zone.unreadable)} unreadable, looked up again`);
    const part = zone.albumsReadInPart;
    output.info(
      `${label(i === 0 ? 'Zones' : '')} ${name.padEnd(28)} ${PROGRESS_TEXT[zone.progress].padEnd(23)} token ${formatAge(zone.tokenAgeMs)} old${waiting}`,
    );
    if (part !== undefined)
      output.warn(
        `${name}: albums read only in part on every walk since ${when(part.since)} UTC (${count(part.walks)} walks; iCloud served an album or member as an error): nothing taken as deleted; next walk ${part.nextWalk === 'nextRun' ? 'next run' : `${when(part.nextWalk)} UTC`}`,
      );
  });
  renderFailed(output, status);
  if (queue !== undefined) {
    output.info(
      `${label('Queue')} ${count(queue.pending)} waiting, ${count(queue.inFlight)} in flight, ${count(queue.deadLetters)} dead letters`,
    );
  }
  const trustText =
    trust.expiresAt === undefined
      ? 'unknown (no trust token in the stored session)'
      : describeTrust(trust.expiresAt, status.now);
  output.info(`${label('Trust')} ${trustText}`);
  if (trust.state === 'expiresSoon' || trust.state === 'expired')
    output.warn('Run npx icloud-s3 login --force soon.');
  if (status.runs.length === 0) output.info(`${label('Runs')} none yet`);
  status.runs.forEach((run, i) => {
    output.info(`${label(i === 0 ? 'Runs' : '')} ${runLine(run)}`);
    for (const failure of run.failures) output.info(`${label('')}   ${failure.subject}: ${failure.reason}`);
    if (run.message) output.info(`${label('')}   ${run.message}`);
  });
}

/** Failed photos shown per line (the JSON lists up to 100). */
const FAILED_LINES = 10;

/** The photos recorded `failed`: why, and when detection tries each again. */
function renderFailed(output: Output, status: ArchiveStatus): void {
  const { failedPhotos } = status;
  const total = status.manifest.byStatus.failed;
  if (total === 0) return;
  output.info(`${'Failed'.padEnd(9)} ${count(total)} photos, tried again by the scheduled runs:`);
  for (const photo of failedPhotos.slice(0, FAILED_LINES)) {
    const next =
      photo.nextTry === 'nextRun'
        ? 'next run'
        : photo.nextTry === 'notScheduled'
          ? 'not scheduled (failed before retries existed: verify --repair queues it)'
          : `${when(photo.nextTry)} UTC`;
    output.info(
      `${''.padEnd(9)}   ${photo.assetRecordName}: ${photo.reason} (since ${when(photo.failedAt)} UTC, ${count(photo.attempts)} tries; next ${next})`,
    );
  }
  if (total > FAILED_LINES)
    output.info(`${''.padEnd(9)}   … ${total - FAILED_LINES} more (--json lists ${failedPhotos.length})`);
}

/** What the local `sync` runs left for the next one. */
interface LeftBySync {
  /** The last `sync` did not finish (its `sync-in-progress` marker): the next walks every zone again. */
  readonly unfinishedSync?: { readonly since: string | null; readonly action: string };
  /** A `sync` is running now: its marker names a live process, so nothing is to run beside it. */
  readonly syncRunning?: { readonly since: string | null };
  /** Work parked for the next `sync` (`parked-work.json`): to finish, and dead letters it redrives when due. */
  readonly parkedWork: { readonly unfinished: number; readonly deadLetters: number };
}

async function leftBySync(dataDir: string): Promise<LeftBySync> {
  const [{ markerHolderAlive, readSyncMarker }, { readParkedWork }] = await Promise.all([
    import('#local/sync-marker.ts'),
    import('#local/parked-work.ts'),
  ]);
  const [marker, parked] = await Promise.all([readSyncMarker(dataDir), readParkedWork(dataDir)]);
  const since = marker?.since === undefined ? null : new Date(marker.since).toISOString();
  return {
    ...(marker === undefined
      ? {}
      : markerHolderAlive(marker)
        ? { syncRunning: { since } }
        : { unfinishedSync: { since, action: 'icloud-s3 sync' } }),
    parkedWork: { unfinished: parked.unfinished.length, deadLetters: parked.deadLetters.length },
  };
}

function renderLeft(output: Output, left: LeftBySync): void {
  const { unfinished, deadLetters } = left.parkedWork;
  if (unfinished + deadLetters > 0)
    output.info(
      `${'Parked'.padEnd(9)} ${count(unfinished)} work messages to finish, ${count(deadLetters)} dead letters (the next sync takes them up)`,
    );
  if (left.syncRunning !== undefined) {
    const since = left.syncRunning.since;
    output.info(`A sync is running${since === null ? '' : ` (since ${when(Date.parse(since))} UTC)`}.`);
  }
  if (left.unfinishedSync === undefined) return;
  const since = left.unfinishedSync.since;
  output.warn(
    `The last sync did not finish${since === null ? '' : ` (since ${when(Date.parse(since))} UTC)`}: run ${asTyped(left.unfinishedSync.action)}; it walks the library again and fetches what is missing.`,
  );
}

/** The reauth latch, last so it is what a person reads: the pipeline asks Apple nothing until then. */
function renderSignInNeeded(output: Output, latch: SignInNeeded & { readonly action: string }): void {
  output.warn(
    `Sign-in needed since ${when(latch.since)} UTC, run ${asTyped(latch.action)} (${latch.reason}).`,
  );
  output.warn('Until then no run asks Apple anything.');
}
