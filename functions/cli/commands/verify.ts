/**
 * `icloud-s3 verify`: checks the archive end to end. It gathers a fresh enumeration of iCloud,
 * the manifest and the bucket's objects, and hands them to the pure comparison
 * (`#domain/verify/compare-archive.ts`). Nothing is changed but a `verify` run record.
 */
import { Command } from 'commander';
import { countDifferences, runVerify } from '#app/verify.ts';
import type { ArchiveAccess } from '#compose/archive-access.ts';
import { openIcloudAdapters } from '#compose/icloud-adapters.ts';
import { parseVersionPolicy } from '#domain/plan/version-policy.ts';
import type { LibraryListing } from '#domain/verify/gather-inputs.ts';
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
        const report = await runVerifyCommand(ctx, access, options);
        if (!report.ok) process.exitCode = EXIT.differences;
      } finally {
        await access.close();
      }
    });
}

async function runVerifyCommand(
  ctx: CliContext,
  access: ArchiveAccess,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const progress = new ProgressLine();
  const { report, listing, durationMs } = await runVerify(
    {
      state: access.state,
      objects: access.objects,
      versionPolicy: parseVersionPolicy(options.versions ?? process.env[ENV.versionPolicy]),
      ...(options.icloud
        ? {
            icloud: async () =>
              openIcloudAdapters({
                endpoint: await ctx.endpoint(),
                store: access.session ?? ctx.store,
                logger: ctx.logger,
              }),
          }
        : {}),
    },
    {
      deep: Boolean(options.deep),
      etagsAreMd5: !options.sseKms,
      onListed: (n) => progress.update(`Listing iCloud… ${n} photos`, 0),
      onObject: (done, total) => progress.update(`Checking objects ${done}/${total}`, done, total),
      onPhaseDone: () => progress.done(),
    },
  );
  ctx.output.result({
    status: report.ok ? 'ok' : 'differences',
    archive: access.where,
    durationMs,
    icloudProblems: listing?.problems ?? 0,
    ...report,
  });
  if (!ctx.output.json) render(ctx.output, report, listing, durationMs);
  return report;
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
