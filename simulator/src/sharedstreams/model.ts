/**
 * The shared albums' state: albums with their owner, subscribers, pending invitations and items,
 * each item with its reduced renditions, likes and comments. Deterministic from the seed; changed
 * only through `SharedStreams` (mutations.ts). Every content change bumps the album's `version`
 * (its `albumctag`) and the service-wide `rootVersion` (`getchanges`' `rootctag`).
 */
import { createHash } from 'node:crypto';
import type { ItemKind, Rendition } from './renditions.ts';

export interface SharedComment {
  readonly position: number;
  readonly authorDsid: string;
  /** "0" text, "1" like (likes count as comments, support.apple.com/108916). */
  readonly type: '0' | '1';
  readonly text: string;
  readonly at: number;
}

export interface IdentifiedRendition extends Rendition {
  /** 28 characters of standard base64 (the CDN URL's `/B/` path, and `fileChecksum`). */
  readonly fileChecksum: string;
  readonly referenceChecksum: string;
}

export interface SharedItem {
  /** The CPLAsset recordName: the item's asset GUID. */
  readonly assetGuid: string;
  /** The CPLMaster recordName. */
  readonly masterName: string;
  readonly fileName: string;
  readonly kind: ItemKind;
  readonly contributorDsid: string;
  readonly addedDate: number;
  readonly captureDate: number;
  /** The library original's dimensions (what the contributor has; never served). */
  readonly originalWidth: number;
  readonly originalHeight: number;
  readonly durationSeconds?: number;
  readonly renditions: readonly IdentifiedRendition[];
  /**
   * What the contributor wrote with the photo: a `caption` field on the CPLAsset (reading: the
   * public web stream names it `caption` per photo, beside the contributor names this service
   * also sends).
   */
  readonly caption?: string;
  readonly likes: Set<string>;
  readonly comments: SharedComment[];
  /** Bumped on any change of the item's records (likes, comments). */
  changeTag: number;
}

export interface SharedAlbum {
  readonly albumguid: string;
  readonly name: string;
  readonly ownerDsid: string;
  /** `pNN` of the album's host: its owner's partition at creation. */
  readonly partition: number;
  /** The opaque path segment of `albumlocation`. */
  readonly locationToken: string;
  readonly creationDate: number;
  readonly allowContributions: boolean;
  readonly isPublic: boolean;
  readonly subscribers: Set<string>;
  /** Invited, not yet accepted: never listed for them (statement SA-8). */
  readonly pending: Set<string>;
  readonly items: SharedItem[];
  version: number;
  /** The `rootVersion` at this album's last change (for `getchanges`). */
  changedAt: number;
  deleted: boolean;
}

/** A deterministic hex digest of `label` under the seed. */
export function digest(seed: number, label: string): string {
  return createHash('sha256').update(`icloud-s3-simulator:${seed}:sharedstreams:${label}`).digest('hex');
}

/** An upper-case UUID (version 4 shape) from `label`. */
export function uuidOf(seed: number, label: string): string {
  const h = digest(seed, label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

/** 28 characters of base64 (21 bytes, first byte 0x01 as in Apple's fingerprints). */
export function checksumOf(seed: number, label: string): string {
  const bytes = Buffer.concat([Buffer.from([0x01]), Buffer.from(digest(seed, label), 'hex').subarray(0, 20)]);
  return bytes.toString('base64');
}

/** The `albumlocation` URL of an album. */
export function albumLocation(album: Pick<SharedAlbum, 'partition' | 'locationToken'>): string {
  return `https://${hostOf(album.partition)}:443/${album.locationToken}/sharedstreams/`;
}

export const hostOf = (partition: number): string => `p${partition}-sharedstreams.icloud.com`;

/** `FT;1;<version>` (Apple's format is unknown; clients must treat it as opaque). */
export const albumCtag = (album: Pick<SharedAlbum, 'version'>): string => `FT;1;${album.version}`;

/** The caller's relation to an album, or undefined when the caller cannot see it. */
export function sharingTypeFor(album: SharedAlbum, dsid: string): 'owned' | 'subscribed' | undefined {
  if (album.deleted) return undefined;
  if (album.ownerDsid === dsid) return 'owned';
  if (album.subscribers.has(dsid)) return 'subscribed';
  return undefined;
}
