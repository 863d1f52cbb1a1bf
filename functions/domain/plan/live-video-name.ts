import { InvalidInputError } from '#domain/errors.ts';

/**
 * How a HEIC Live Photo's video is named (`LIVE_VIDEO_NAME`): `suffix` (default) `IMG_0001_HEVC.MOV`,
 * as icloudpd and kei do; `original` `IMG_0001.MOV`, so apps that pair a Live Photo's halves by
 * base name (PhotoPrism, Synology Photos) see one photo. A JPEG still's video is `IMG_7409.MOV`
 * either way. Names only objects not archived yet: keys are never renamed.
 */
export type LiveVideoName = 'suffix' | 'original';
export const LIVE_VIDEO_NAMES: readonly LiveVideoName[] = ['suffix', 'original'];

/** `LIVE_VIDEO_NAME` or `--live-video-name`: unset or blank is `suffix`; anything else but the two names throws. */
export function parseLiveVideoName(text: string | undefined): LiveVideoName {
  const value = text?.trim().toLowerCase() ?? '';
  if (value === '') return 'suffix';
  const found = LIVE_VIDEO_NAMES.find((name) => name === value);
  if (found !== undefined) return found;
  throw new InvalidInputError(`LIVE_VIDEO_NAME: "${text}" is not one of ${LIVE_VIDEO_NAMES.join(', ')}`);
}
