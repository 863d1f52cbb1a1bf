/**
 * `icloud-s3 verify`: checks the archive end to end. It gathers a fresh enumeration of iCloud,
 * the manifest and the bucket's objects, and hands them to the pure comparison
 * (`#domain/verify/compare-archive.ts`). Nothing is changed but a `verify` run record.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { ArchiveAccess } from '#compose/archive-access.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';
import { compareArchive } from '#domain/verify/compare-archive.ts';
import {
  enumerateLibrary,
  type LibraryListing,
  readManifest,
  readObjects,
} from '#domain/verify/gather-inputs.ts';
import type { VerifyReport } from '#domain/verify/verify-report.ts';
import { ENV } from '#shared/env-names.ts';
import { type CliContext, cliContext } from '../context.ts';
import { EXIT } from '../io/exit-codes.ts';
import type { Output } from '../io/output.ts';
import { formatBytes, formatDuration, ProgressLine } from '../io/progress-line.ts';
import { type AwsTargetOptions, addAwsTargetOptions, openTarget } from './status.ts';

interface VerifyOptions extends AwsTargetOptions {
  readonly icloud: boolean;
  readonly deep?: boolean;
  readonly sseKms?: boolean;
  readonly versions?: string;
}

/** Findings of each kind shown on a terminal; `--json` lists them all. */
const SHOWN = 20;

export function verifyCommand(): Command {
  return addAwsTargetOptions(
    new Command('verify').description('check the archive against iCloud and the manifest against the bucket'),
  )
    .option(
      '--no-icloud',
      'skip the iCloud side: compare only the manifest with the bucket (no request to Apple)',
    )
    .option('--deep', 're-read every archived object and check its SHA-256 (downloads the whole archive)')
    .option('--sse-kms', 'the bucket uses SSE-KMS: ETags are not MD5s, read md5chksum from each object')
    .option(
      '--versions <policy>',
      `the version policy the archive follows (default: $${ENV.versionPolicy} or "default")`,
    )
    .addHelpText(
      'after',
      `
Examples:
  icloud-s3 verify                       the local archive in ./.icloud-s3 against iCloud
  icloud-s3 verify --no-icloud --json    manifest against bucket only, as JSON
  icloud-s3 verify --deep                also re-read every object and check its SHA-256

Exit codes: 0 everything agrees, 5 differences found (listed), 1 the check could not finish,
2 usage, 3 iCloud needs you to log in again.`,
    )
    .action(async (options: VerifyOptions, command: Command) => {
      const ctx = cliContext(command);
      const globals = command.optsWithGlobals<{ local?: string }>();
      const access = await openTarget(options, globals.local);
      try {
        const report = await runVerify(ctx, access, options);
        if (!report.ok) process.exitCode = EXIT.differences;
      } finally {
        await access.close();
      }
    });
}

async function listIcloud(
  ctx: CliContext,
  access: ArchiveAccess,
  options: VerifyOptions,
): Promise<LibraryListing> {
  const policy = parseVersionPolicy(options.versions ?? process.env[ENV.versionPolicy]);
  const icloud = await openIcloudAdapters({
    endpoint: await ctx.endpoint(),
    store: access.session ?? ctx.store,
    logger: ctx.logger,
  });
  const progress = new ProgressLine();
  try {
    return await enumerateLibrary(icloud.source, policy, (n) =>
      progress.update(`Listing iCloud… ${n} photos`, 0),
    );
  } finally {
    progress.done();
    await icloud.session.save();
  }
}

async function runVerify(
  ctx: CliContext,
  access: ArchiveAccess,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const started = Date.now();
  const run = await access.state.startRun(`verify-${started}-${randomUUID().slice(0, 8)}`, 'verify', started);
  try {
    const listing = options.icloud ? await listIcloud(ctx, access, options) : undefined;
    const manifest = await readManifest(access.state);
    const referenced = new Set(manifest.flatMap((entry) => entry.versions.map((v) => v.key)));
    const progress = new ProgressLine();
    const objects = await readObjects(access.objects, {
      referenced,
      etagsAreMd5: !options.sseKms,
      deep: Boolean(options.deep),
      onObject: (done, total) => progress.update(`Checking objects ${done}/${total}`, done, total),
    });
    progress.done();
    const report = compareArchive({
      ...(listing === undefined ? {} : { library: listing.assets }),
      manifest,
      objects,
      etagsAreMd5: !options.sseKms,
      counters: await access.state.getCounters(),
    });
    const differences = countDifferences(report);
    for (const failure of failuresOf(report)) await access.state.recordRunFailure(run, failure);
    await access.state.addRunProgress(run, {
      counts: {
        libraryAssets: report.checked.libraryAssets,
        objectsChecked: report.checked.manifestObjects,
        differences,
      },
    });
    await access.state.finishRun(
      run,
      report.ok ? 'succeeded' : 'partial',
      Date.now(),
      report.ok ? undefined : `${differences} differences`,
    );
    const durationMs = Date.now() - started;
    ctx.output.result({
      status: report.ok ? 'ok' : 'differences',
      archive: access.where,
      durationMs,
      icloudProblems: listing?.problems ?? 0,
      ...report,
    });
    if (!ctx.output.json) render(ctx.output, report, listing, durationMs);
    return report;
  } catch (error) {
    await access.state
      .finishRun(run, 'failed', Date.now(), error instanceof Error ? error.name : 'Error')
      .catch(() => undefined);
    throw error;
  }
}

function countDifferences(report: VerifyReport): number {
  return (
    report.missing.length +
    report.extra.length +
    report.sizeMismatches.length +
    report.checksumMismatches.length
  );
}

/** One line per finding for the run record (the store keeps the first 50); record names and keys only. */
function failuresOf(report: VerifyReport): { subject: string; reason: string }[] {
  return [
    ...report.missing.map((m) =>
      m.type === 'notArchived'
        ? { subject: m.assetRecordName, reason: `${m.version} not archived (${m.reason})` }
        : { subject: m.key, reason: 'object missing from the bucket' },
    ),
    ...report.extra.map((e) =>
      e.type === 'unreferencedObject'
        ? { subject: e.key, reason: 'object not in the manifest' }
        : { subject: e.assetRecordName, reason: 'archived but no longer in iCloud' },
    ),
    ...report.sizeMismatches.map((s) => ({
      subject: s.key,
      reason: `size ${s.actual}, manifest ${s.expected}`,
    })),
    ...report.checksumMismatches.map((c) => ({
      subject: c.key,
      reason: `${c.algorithm} differs (${c.source})`,
    })),
  ].slice(0, 50);
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
      `${c.md5Unavailable} objects state no MD5 (multipart without md5chksum); --deep checks their bytes.`,
    );
  if (report.ok) {
    output.success(`Everything agrees: ${summary}`);
    return;
  }
  output.error(`verify found ${countDifferences(report)} differences: ${summary}`);
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
