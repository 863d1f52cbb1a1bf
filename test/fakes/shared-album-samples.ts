/**
 * A Shared Album and its items as the shared-streams source lists them, for the Shared Album
 * tests: a subscribed album, and a 32-byte JPEG original per item whose CDN URL and Apple
 * checksum both name `file` (the same file in two albums shares both).
 */
import type { SharedAlbum, SharedItem } from '#domain/shared-albums/model.ts';

export const sampleSharedAlbum = (guid: string, name = `Album ${guid}`, ctag = '1'): SharedAlbum => ({
  albumguid: guid,
  name,
  location: `https://p101-sharedstreams.icloud.com:443/${guid}/sharedstreams/`,
  ctag,
  ownerDsid: '100',
  sharingType: 'subscribed',
  isPublic: false,
});

/** Apple's checksum of `file` in these samples (base64 of 21 bytes). */
export const sampleChecksum = (file: string): string => Buffer.from(file.padEnd(21, '.')).toString('base64');

/** Item `guid`, named `<guid>.JPG`, showing `file`. */
export const sampleSharedItem = (
  guid: string,
  file: string = guid,
  overrides: Partial<SharedItem> = {},
): SharedItem => ({
  assetGuid: guid,
  masterRecordName: `M-${guid}`,
  changeTag: 'b0',
  fileName: `${guid}.JPG`,
  addedDate: Date.UTC(2026, 4, 3),
  captureDate: Date.UTC(2026, 4, 3, 12),
  rendition: {
    field: 'resOriginalRes',
    downloadUrl: `https://cdn.test/${file}?size=32`,
    fileChecksum: sampleChecksum(file),
    size: 32,
    uti: 'public.jpeg',
  },
  likeCount: 0,
  ...overrides,
});
