/**
 * The sync settings every command reads, in one place and one order: a flag wins, then the
 * environment variable the deployed functions read too (`shared/env-names.ts`, docs/commands.md),
 * then the default. `sync` and `verify` both read them here, so the same shell gives both the
 * same policy (before, `sync` ignored `DELETE_POLICY`, `MAX_DELETE_FRACTION`, `MAX_DELETE_COUNT`
 * and `VERSION_POLICY` while `verify` read them).
 */
import { type DeletePolicy, parseDeletePolicy } from '#domain/plan/delete-policy.ts';
import { type LiveVideoName, parseLiveVideoName } from '#domain/plan/live-video-name.ts';
import { parseVersionPolicy, type VersionPolicy } from '#domain/plan/version-policy.ts';
import { ENV } from '#shared/env-names.ts';

/** The flags a command may have for them (each optional: a command without one reads the variable). */
export interface SyncSettingFlags {
  readonly deletePolicy?: string | undefined;
  readonly maxDeleteFraction?: number | undefined;
  readonly maxDeleteCount?: number | undefined;
  readonly versions?: string | undefined;
  readonly liveVideoName?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `--delete-policy`, `--max-delete-fraction`, `--max-delete-count`, else their variables, else the defaults. */
export function deletePolicySetting(flags: SyncSettingFlags, env: Env = process.env): DeletePolicy {
  return parseDeletePolicy({
    mode: flags.deletePolicy ?? env[ENV.deletePolicy],
    maxDeleteFraction: flags.maxDeleteFraction?.toString() ?? env[ENV.maxDeleteFraction],
    maxDeleteCount: flags.maxDeleteCount?.toString() ?? env[ENV.maxDeleteCount],
  });
}

/** `--versions`, else `VERSION_POLICY`, else the default policy. */
export function versionPolicySetting(flags: SyncSettingFlags, env: Env = process.env): VersionPolicy {
  return parseVersionPolicy(flags.versions ?? env[ENV.versionPolicy]);
}

/** `--live-video-name`, else `LIVE_VIDEO_NAME`, else `suffix`. */
export function liveVideoNameSetting(flags: SyncSettingFlags, env: Env = process.env): LiveVideoName {
  return parseLiveVideoName(flags.liveVideoName ?? env[ENV.liveVideoName]);
}
