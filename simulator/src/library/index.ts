/**
 * The simulated photo library. Wire it as:
 *
 *   const library = await SimLibrary.open({ seed, assets, stateDir, clock, family, minter, mediaScale });
 *   cdn resolve      -> library.resolveResource            (fileChecksum -> MediaSpec)
 *   CloudKit         -> handleCloudKit(req, { library, principal, clock, requestUuid })  (cloudkit/router.ts)
 *   /__sim control   -> handleLibraryControl(req, library)  (library/control.ts)
 *   shutdown         -> library.close()
 */

export type { GroundTruthAlbum, GroundTruthAlbumMember } from './album-truth.ts';
export type { GroundTruthAsset, GroundTruthVersion } from './ground-truth.ts';
export {
  type ChangedRecordSummary,
  type GroundTruth,
  type MutateResult,
  MutationError,
  SimLibrary,
  type SimLibraryOptions,
} from './library.ts';
export type { MutateOp } from './mutations.ts';
export type { Quirks } from './quirks.ts';
