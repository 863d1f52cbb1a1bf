/**
 * `icloud-s3 verify`: checks the archive end to end. It gathers a fresh enumeration of iCloud,
 * the manifest and the bucket's objects, and hands them to the pure comparison
 * (`#domain/verify/compare-archive.ts`). Nothing is changed but a `verify` run record, unless
 * `--repair` is given (`./verify-repair.ts`).
 */
// What the command does is imported when it runs: `verify --help` loads no AWS SDK (issue 12).
import { Command, Option } from 'commander';
import type { ArchiveAccess } from '#compose/archive-access.ts';
import type { AlbumVerifyReport } from '#domain/albums/verify-albums.ts';
import { type ArchiveSettings, settingsInput, versionsAdded } from '#domain/model/archive-settings.ts';
import type { DeletePolicy } from '#domain/plan/delete-policy.ts';
import { formatVersionPolicy, parseVersionPolicy, type VersionPolicy } from '#domain/plan/version-policy.ts';
import type { SharedAlbumsCheck } from '#domain/shared-albums/verify-shared-albums.ts';
import type { LibraryListing } from '#domain/verify/gather-inputs.ts';
import type { VerifyReport } from '#domain/verify/verify-report.ts';
import type { IcloudConnection } from '#ports/icloud-connection.ts';
import { ENV } from '#shared/env-names.ts';
import type { CliContext } from '../context.ts';
import { sameCommandWith } from '../io/command-line.ts';
import { EXIT } from '../io/exit-codes.ts';
import { numberIn } from '../io/option-parsers.ts';
import type { Output } from '../io/output.ts';
import { formatBytes, formatDuration, ProgressLine } from '../io/progress-line.ts';
import { deletePolicySetting, liveVideoNameSetting, versionPolicySetting } from '../io/sync-settings.ts';
import { type AwsTargetOptions, addAwsTargetOptions, openTarget } from './status.ts';
import type { RepairResult } from './verify-repair.ts';

interface VerifyOptions extends AwsTargetOptions {
  readonly icloud: boolean;
  readonly deep?: boolean;
  readonly sseKms?: boolean;
  readonly versions?: string;
  readonly liveVideoName?: string;
  readonly repair?: boolean;
  readonly deletePolicy?: string;
  readonly maxDeleteFraction?: number;
}

/** Where verify's version policy came from: `--versions`, the archive's record, `$VERSION_POLICY`, the default. */
type VersionPolicySource = 'option' | 'archive' | 'environment' | 'default';

/** Findings of each kind shown on a terminal; `--json` lists them all. */
const SHOWN = 20;

export function verifyCommand(): Command {
  return addAwsTargetOptions(
    new Command('verify').description('check the archive against iCloud and the manifest against the bucket'),
  )
    .option(
      '--no-icloud',
      'skip the iCloud side: compare only the manifest with the bucket (no request to Apple but the lookups --repair makes)',
    )
    .option('--deep', 're-read every archived object and check its SHA-256 (downloads the whole archive)')
    .option(
      '--sse-kms',
      'the bucket uses SSE-KMS: read md5chksum from every object up front (without it, verify reads the head of each object whose ETag disagrees, and learns it there)',
    )
    .option(
      '--versions <policy>',
      `the version policy the archive follows (default: the one the archive was last synced with, recorded with its state; else $${ENV.versionPolicy} or "default")`,
    )
    .option(
      '--live-video-name <naming>',
      `how --repair names a HEIC Live Photo video it archives for the first time: suffix or original (default: $${ENV.liveVideoName} or suffix); archived keys are never renamed`,
    )
    .option(
      '--repair',
      "re-archive what is missing, truncated or corrupt (looked up afresh in iCloud), give objects that state no MD5 the manifest's MD5 and SHA-256 (a rewrite in place) and, under mirror, remove stray objects",
    )
    .addOption(
      new Option(
        '--delete-policy <policy>',
        `with --repair: keep (default; stray objects stay) or mirror (they go); default $${ENV.deletePolicy}`,
      ).choices(['keep', 'mirror']),
    )
    .addOption(
      new Option(
        '--max-delete-fraction <share>',
        'with --repair: replace no truncated or corrupt objects, and under mirror remove no stray objects, when they are more than this share of the bucket (default 0.05)',
      ).argParser(numberIn(0, 1)),
    )
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 verify                   the local archive in ./.icloud-s3 against iCloud
  npx icloud-s3 verify --repair          ... and fix what it finds (then run verify again)
  npx icloud-s3 verify --aws --repair    queue the fixes for the deployed workers
  npx icloud-s3 verify --no-icloud --json  manifest against bucket only, as JSON
  npx icloud-s3 verify --deep            also re-read every object and check its SHA-256

Exit codes: 0 everything agrees (with --repair: everything found was repaired, or queued with --aws),
5 differences found (listed; with --repair: some could not be repaired), 1 the check could not finish,
2 usage, 3 iCloud needs you to log in again.`,
    )
    .action(async (options: VerifyOptions, command: Command) => {
      const [{ cliContext }, { repairQueue }] = await Promise.all([
        import('../context.ts'),
        import('./verify-repair.ts'),
      ]);
      const ctx = cliContext(command);
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      const access = await openTarget(options, globals);
      try {
        // Before the long check: --repair --aws without a queue to put the work on is a usage error.
        if (options.repair) repairQueue(access);
        const { report, repair, albumDifferences } = await runVerifyCommand(ctx, access, options);
        const left = (repair === undefined ? !report.ok : repair.left > 0) || albumDifferences !== undefined;
        if (left) process.exitCode = EXIT.differences;
      } finally {
        await access.close();
      }
    });
}

async function runVerifyCommand(
  ctx: CliContext,
  access: ArchiveAccess,
  options: VerifyOptions,
): Promise<{ report: VerifyReport; repair?: RepairResult; albumDifferences?: number }> {
  const [
    { countDifferences, runVerify, sharedDifferences },
    { openIcloudAdapters },
    { renderRepair, repairArchive },
    { exitOnInterrupt },
  ] = await Promise.all([
    import('#app/verify.ts'),
    import('#compose/icloud-adapters.ts'),
    import('./verify-repair.ts'),
    import('../io/interrupt.ts'),
  ]);
  const progress = new ProgressLine();
  // What Ctrl-C says it stopped: verify itself changes nothing, a repair keeps what it re-archived.
  let doing = options.icloud ? 'listing iCloud' : 'checking objects';
  const keepRunning = exitOnInterrupt(
    ctx.output,
    () => {
      progress.done();
      return doing === 'repairing'
        ? 'Interrupted while repairing: what was re-archived or given its metadata so far stays, nothing else changed.'
        : `Interrupted while ${doing}: verify changed nothing.`;
    },
    `Run ${sameCommandWith('')} again.`,
  );
  // The policy the archive was synced with (recorded by detection), unless one is named here.
  const recorded = await access.state.loadArchiveSettings();
  const policySource: VersionPolicySource =
    options.versions !== undefined
      ? 'option'
      : recorded !== undefined
        ? 'archive'
        : process.env[ENV.versionPolicy] !== undefined
          ? 'environment'
          : 'default';
  const versionPolicy =
    policySource === 'archive' && recorded !== undefined
      ? parseVersionPolicy(recorded.versionPolicy)
      : versionPolicySetting(options);
  // One connection for the enumeration, the repair's lookups and the local workers.
  let opened: Promise<IcloudConnection> | undefined;
  const icloud = () => {
    opened ??= ctx
      .endpoint()
      .then((endpoint) =>
        openIcloudAdapters({ endpoint, store: access.session ?? ctx.store, logger: ctx.logger }),
      );
    return opened;
  };
  const { report, listing, albums, durationMs, sharedAlbums } = await runVerify(
    {
      state: access.state,
      objects: access.objects,
      ...(access.sharedAlbumState ? { sharedAlbumState: access.sharedAlbumState } : {}),
      versionPolicy,
      ...(options.icloud ? { icloud } : {}),
    },
    {
      deep: Boolean(options.deep),
      etagsAreMd5: !options.sseKms,
      onListed: (n) => {
        doing = `listing iCloud (${n} photos so far)`;
        progress.update(`Listing iCloud… ${n} photos`, 0);
      },
      onObject: (done, total) => {
        doing = `checking objects (${done} of ${total})`;
        progress.update(`Checking objects ${done}/${total}`, done, total);
      },
      onPhaseDone: () => progress.done(),
    },
  );
  // Also when everything agrees: objects that state no MD5 get the manifest's hashes, and objects
  // archived before their keys were recorded get them (`objectKey#`, an upgrade's one repair).
  const found = !report.ok || (report.md5UnavailableObjects?.length ?? 0) > 0;
  const toRepair = Boolean(options.repair);
  if (toRepair) doing = 'repairing';
  const deletePolicy = deletePolicySetting(options);
  const repair = toRepair
    ? await repairArchive(
        access,
        report,
        {
          icloud,
          versionPolicy,
          liveVideoName: liveVideoNameSetting(options),
          deletePolicy,
          logger: ctx.logger,
        },
        sharedAlbums,
      ).finally(() => opened?.then((c) => c.session.save()).catch(() => undefined))
    : undefined;
  // A repair under a policy covering the recorded one queued every version the photos archived
  // before a widening lacked: the record's catch-up note is done (finding 113).
  const caughtUp =
    repair !== undefined && recorded?.versionsBehind !== undefined
      ? await clearVersionsBehind(access, recorded, versionPolicy, listing !== undefined, repair, ctx)
      : false;
  keepRunning();
  const albumsOk = albums?.ok ?? true;
  // With `--repair`, the Shared Album findings not repaired are in `repair.left`.
  const sharedOk = sharedAlbums?.ok ?? true;
  ctx.output.result({
    // `repaired` exits 0 (io/result-status.ts): album view differences left standing are `differences`.
    status:
      report.ok && albumsOk
        ? 'ok'
        : report.ok || repair === undefined || repair.left > 0 || !albumsOk
          ? 'differences'
          : 'repaired',
    archive: access.where,
    versionPolicy: { policy: formatVersionPolicy(versionPolicy), from: policySource },
    ...(caughtUp ? { versionsCaughtUp: true } : {}),
    durationMs,
    icloudProblems: listing?.problems ?? 0,
    ...report,
    ...(sharedAlbums === undefined ? {} : { sharedAlbums }),
    ...(albums === undefined ? {} : { albums }),
    ...(repair === undefined ? {} : { repair }),
  });
  if (!ctx.output.json) {
    render(ctx.output, report, countDifferences(report), listing, durationMs);
    if (albums !== undefined) renderAlbums(ctx.output, albums);
    if (sharedAlbums !== undefined) renderSharedAlbums(ctx.output, sharedAlbums);
    if (repair !== undefined) renderRepair(ctx.output, repair, found);
  }
  if (repair?.refused !== undefined)
    renderRefusal(ctx.output, repair.refused, deletePolicy, report.checked.bucketObjects);
  // What to do about it, with --json too (on stderr): the same check again, repairing.
  if (!report.ok && !options.repair)
    ctx.output.info(
      `  Run: ${sameCommandWith('--repair')}   re-archives what is missing or damaged, then verify again`,
    );
  // Album view differences are reported, not repaired; so are Shared Album ones without `--repair`.
  const sharedStanding = repair === undefined && !sharedOk;
  const albumDifferences =
    albumsOk && !sharedStanding
      ? {}
      : {
          albumDifferences:
            (albums?.findings.length ?? 0) + (sharedStanding ? sharedDifferences(sharedAlbums) : 0),
        };
  return { report, ...(repair === undefined ? {} : { repair }), ...albumDifferences };
}

/**
 * Drops the record's note that photos archived before a widening lack versions, once a repair
 * under a policy that covers the recorded one left no missing version unqueued. True when dropped.
 */
async function clearVersionsBehind(
  access: ArchiveAccess,
  recorded: ArchiveSettings,
  used: VersionPolicy,
  checkedIcloud: boolean,
  repair: RepairResult,
  ctx: CliContext,
): Promise<boolean> {
  if (!checkedIcloud || repair.left > 0) return false;
  if (versionsAdded(used, parseVersionPolicy(recorded.versionPolicy)).length > 0) return false;
  const { versionsBehind: _done, ...rest } = settingsInput(recorded);
  return access.state
    .saveArchiveSettings(rest, recorded.revision)
    .then(() => true)
    .catch((error: unknown) => {
      // A detection run recorded a change meanwhile: its note stands, the next repair drops it.
      ctx.logger.warn('version catch-up not recorded', { error });
      return false;
    });
}

/**
 * Repair replaced none of the truncated and corrupt objects: more than one run may delete. Says
 * how many, why that is suspect, and the command that goes ahead (with --json too, on stderr).
 */
function renderRefusal(
  output: Output,
  refused: { readonly objects: number; readonly limit: number },
  policy: DeletePolicy,
  bucketObjects: number,
): void {
  output.error(
    `Refused to delete and re-archive ${refused.objects} objects whose size or bytes differ from the manifest: one run may delete at most ${refused.limit} of the bucket's ${bucketObjects} objects (--max-delete-fraction ${policy.maxDeleteFraction}, ${ENV.maxDeleteCount} ${policy.maxDeleteCount}). Nothing was deleted.`,
    'So many at once more often means they were misread than damaged: look at a few first (verify --deep re-reads their bytes).',
  );
  // The smallest share, in hundredths, that lets the run delete them all.
  const share = Math.min(1, Math.ceil((refused.objects / Math.max(1, bucketObjects)) * 100) / 100);
  const count = refused.objects > policy.maxDeleteCount ? `${ENV.maxDeleteCount}=${refused.objects} ` : '';
  output.info(`  To replace them all, run: ${count}${sameCommandWith(`--max-delete-fraction ${share}`)}`);
}

function renderAlbums(output: Output, albums: AlbumVerifyReport): void {
  if (albums.problems !== undefined)
    output.warn(
      `${albums.problems} albums or album members iCloud could not serve: views of albums it did not list, and photos it did not read, are not reported.`,
    );
  if (albums.ok) {
    output.info(`Albums: ${albums.albumsChecked} album views match iCloud.`);
    return;
  }
  output.error(`verify found ${albums.findings.length} album view differences:`);
  section(output, 'Albums', albums.findings, (f) =>
    f.type === 'viewNotInIcloud'
      ? `${f.key}: no such album in iCloud`
      : f.type === 'viewMissing'
        ? `${f.path}: view missing`
        : f.type === 'nameDiffers'
          ? `${f.path}: named "${f.actual}", iCloud says "${f.expected}"`
          : `${f.path}: ${f.missing.length} photos missing, ${f.extra.length} extra${f.orderDiffers ? ', order differs' : ''}`,
  );
}

function renderSharedAlbums(output: Output, check: SharedAlbumsCheck): void {
  if (check.albums + check.goneAlbums === 0) return;
  const sizeOnly =
    check.sizeOnly > 0 ? `, ${check.sizeOnly} by size only (recorded before their MD5 was kept)` : '';
  const line = `Shared albums: ${check.albums} (${check.goneAlbums} gone), ${check.items} items, ${check.reducedItems} of them Apple's reduced shared-album copies, ${check.referencingItems} referencing an identical file; objects checked: MD5 of ${check.md5Compared}${sizeOnly}.`;
  if (check.ok) {
    output.info(line);
    return;
  }
  output.error(line);
  section(output, 'Shared-album objects missing', check.missing, (m) => `${m.key} (${m.assetGuid})`);
  section(
    output,
    'Shared-album objects nobody lists',
    check.extra,
    (e) => `${e.key} (${formatBytes(e.size)})`,
  );
  section(
    output,
    'Shared-album size mismatches',
    check.sizeMismatches,
    (s) => `${s.key}: ${s.actual}, recorded ${s.expected}`,
  );
  section(
    output,
    'Shared-album checksum mismatches',
    check.checksumMismatches,
    (c) => `${c.key}: ${c.algorithm} ${c.actual} (${c.source}), recorded ${c.expected}`,
  );
}

function section<T>(output: Output, title: string, items: readonly T[], line: (item: T) => string): void {
  if (items.length === 0) return;
  output.info(`${title} (${items.length})`);
  for (const item of items.slice(0, SHOWN)) output.info(`  ${line(item)}`);
  if (items.length > SHOWN) output.info(`  … and ${items.length - SHOWN} more (--json lists all)`);
}

function render(
  output: Output,
  report: VerifyReport,
  differences: number,
  listing: LibraryListing | undefined,
  durationMs: number,
): void {
  const c = report.checked;
  const scope = listing
    ? `${c.libraryAssets} assets in iCloud (${c.expectedVersions} versions expected), `
    : 'iCloud not checked, ';
  const hashed = c.contentHashed > 0 ? `, SHA-256 of ${c.contentHashed}` : '';
  const summary = `${scope}${c.manifestObjects} objects in the manifest, ${c.bucketObjects} in the bucket (MD5 of ${c.md5Compared} compared${hashed}); ${formatDuration(durationMs)}.`;
  if (listing && listing.problems > 0)
    output.warn(`${listing.problems} records CloudKit could not serve: their assets may show up as extra.`);
  if (c.md5Unavailable > 0)
    output.warn(
      `${c.md5Unavailable} objects state no MD5 (multipart without md5chksum); --deep checks their bytes, --repair gives them the manifest's MD5 and SHA-256.`,
    );
  if (report.ok) {
    output.success(`Everything agrees: ${summary}`);
    return;
  }
  output.error(`verify found ${differences} differences: ${summary}`);
  section(output, 'Missing', report.missing, (m) =>
    m.type === 'notArchived'
      ? `${m.fileName} (${m.version}, ${m.assetRecordName}): not archived, ${m.reason}`
      : `${m.key} (${m.version} of ${m.assetRecordName}): not in the bucket`,
  );
  section(output, 'Extra', report.extra, (e) =>
    e.type === 'unreferencedObject'
      ? `${e.key} (${formatBytes(e.size)}): no manifest entry references it${e.recordedDeletion ? ` (recorded as deleted: ${e.recordedDeletion.reason})` : ''}`
      : `${e.assetRecordName} (${e.status}, ${e.keys.length} objects): archived, but iCloud no longer has it`,
  );
  section(
    output,
    'Size mismatches',
    report.sizeMismatches,
    (s) => `${s.key}: ${s.actual} bytes, the manifest says ${s.expected}`,
  );
  section(
    output,
    'Checksum mismatches',
    report.checksumMismatches,
    (m) => `${m.key}: ${m.algorithm} ${m.actual} (${m.source}), the manifest says ${m.expected}`,
  );
}
