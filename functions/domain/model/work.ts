/**
 * The work change detection hands to the download workers: a batch of asset references with
 * what to do to each. The queue adapter owns the wire format (`adapters/aws/work-message-codec.ts`);
 * these are the domain's read-only types it parses into.
 *
 * Messages may carry signed download URLs (valid about an hour): never log a message body.
 */
import type { SharedAlbum } from '../shared-albums/model.ts';
import type { ZoneChange } from './asset.ts';

export const WORK_MESSAGE_VERSION = 1;

/**
 * One unit of work, in the domain's (read-only) types; the codec parses exactly these. Every
 * change of a zone delta but an album's own record (albums are not archived, their memberships are).
 */
export type LibraryWorkItem = Exclude<ZoneChange, { readonly type: 'album' }>;

/**
 * A Shared Album whose listing changed (docs/protocol/shared-albums.md): the worker reads its
 * items and archives what is new. `gone`: it left the account's view (the deletion policy applies).
 */
export interface SharedAlbumWorkItem {
  readonly type: 'sharedAlbum';
  readonly album: SharedAlbum;
  readonly gone?: boolean;
}

export type WorkItem = LibraryWorkItem | SharedAlbumWorkItem;

export function isLibraryWorkItem(item: WorkItem): item is LibraryWorkItem {
  return item.type !== 'sharedAlbum';
}

export interface WorkMessage {
  readonly v: typeof WORK_MESSAGE_VERSION;
  readonly runId: string;
  readonly runStartedAt?: number;
  readonly issuedAt: number;
  /**
   * The delete mode detection checked the message's purges under (set on messages holding a
   * `tombstone` item): the worker deletes only if this and its own mode are both `mirror`
   * (`stricterDeleteMode`); absent (an older release's message): `keep`.
   */
  readonly deleteMode?: 'keep' | 'mirror';
  readonly items: readonly WorkItem[];
}
