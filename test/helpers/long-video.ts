/**
 * The video of the resumable-upload tests (docs/deploy.md, "Very large videos"): a few parts of
 * S3's smallest size and a tail, so a worker can pause between parts and the next delivery go on.
 */
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { Asset } from '#domain/model/asset.ts';
import { photoAsset } from '#test/handlers/handler-doubles.ts';

export const PART = MIN_PART_SIZE;

/** A video of `parts` whole parts and a tail, named `name`, served at `https://cdn.test/<name>`. */
export function longVideo(name: string, parts: number): { asset: Asset; size: number; url: string } {
  const size = parts * PART + 4321;
  const url = `https://cdn.test/${name}`;
  const asset = photoAsset(name, size);
  const [version] = asset.versions;
  if (version === undefined) throw new Error('no version');
  return {
    asset: {
      ...asset,
      mediaType: 'video',
      fileName: `${name}.MOV`,
      versions: [{ ...version, uti: 'com.apple.quicktime-movie', downloadUrl: url }],
    },
    size,
    url,
  };
}
