/**
 * The form two keys are compared in when deciding whether they would land on one file.
 * S3 is case-sensitive, but the NAS behind rclone often is not (SMB shares, Windows, macOS),
 * and macOS also ignores normalisation: `IMG_1.JPG`, `img_1.jpg` and an NFD spelling are one
 * file there.
 */

/**
 * NFC, then full Unicode case folding approximated by upper- then lower-casing (`ß` -> `ss`,
 * Kelvin sign -> `k`, final sigma -> `σ`), then NFC again. It folds more than NTFS does
 * (NTFS keeps `ß` apart from `ss`); folding too much only costs an unneeded suffix, folding
 * too little would let two photos overwrite each other on the NAS.
 */
export function foldKey(key: string): string {
  return key.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}
