/**
 * The work change detection hands to the download workers: a batch of asset references with
 * what to do to each. The queue adapter owns the wire format (`adapters/aws/work-message-codec.ts`);
 * these are the domain's read-only types it parses into.
 *
 * Messages may carry signed download URLs (valid about an hour): never log a message body.
 */
import type { Asset, AssetOnlyChange, TombstoneType } from './asset.ts';
import type { ZoneRef } from './zone.ts';

export const WORK_MESSAGE_VERSION = 1;

/** One unit of work, in the domain's (read-only) types; the codec parses exactly these. */
export type WorkItem =
  | { readonly type: 'asset'; readonly asset: Asset }
  | { readonly type: 'assetOnly'; readonly change: AssetOnlyChange }
  | {
      readonly type: 'tombstone';
      readonly zone: ZoneRef;
      readonly recordName: string;
      readonly inferredType: TombstoneType;
    }
  | {
      readonly type: 'albumMembership';
      readonly zone: ZoneRef;
      readonly assetRecordName: string;
      readonly albumRecordName: string;
      readonly present: boolean;
    };

export interface WorkMessage {
  readonly v: typeof WORK_MESSAGE_VERSION;
  readonly runId: string;
  readonly runStartedAt?: number;
  readonly issuedAt: number;
  readonly items: readonly WorkItem[];
}
