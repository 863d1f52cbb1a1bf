/**
 * The work change detection hands to the download workers: a batch of asset references with
 * what to do to each. The queue adapter owns the wire format (`adapters/aws/work-message-codec.ts`);
 * these are the domain's read-only types it parses into.
 *
 * Messages may carry signed download URLs (valid about an hour): never log a message body.
 */
import type { ZoneChange } from './asset.ts';

export const WORK_MESSAGE_VERSION = 1;

/**
 * One unit of work, in the domain's (read-only) types; the codec parses exactly these. Every
 * change of a zone delta but an album's own record (albums are not archived, their memberships are).
 */
export type WorkItem = Exclude<ZoneChange, { readonly type: 'album' }>;

export interface WorkMessage {
  readonly v: typeof WORK_MESSAGE_VERSION;
  readonly runId: string;
  readonly runStartedAt?: number;
  readonly issuedAt: number;
  readonly items: readonly WorkItem[];
}
