/**
 * The Live Photo video naming a command on this machine uses: `--live-video-name`, else
 * `$LIVE_VIDEO_NAME`, else `suffix`. `sync`, `verify --repair` and `debug records` resolve it here,
 * so what `debug records` shows is what `sync` archives. A deployed stack's naming is its
 * `icloudS3:liveVideoName` context, set on its functions as `LIVE_VIDEO_NAME` (infra/config.ts).
 */
import { type LiveVideoName, parseLiveVideoName } from '#domain/plan/live-video-name.ts';
import { ENV } from '#shared/env-names.ts';

/** `flag` (the command's `--live-video-name`) over `env`'s `LIVE_VIDEO_NAME`; throws on a naming it does not know. */
export function liveVideoNameOption(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LiveVideoName {
  return parseLiveVideoName(flag ?? env[ENV.liveVideoName]);
}
