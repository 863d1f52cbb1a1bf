/** Names shared by the catalog's shards and journal. */
import { catalogIdOf } from './catalog-record.ts';

export const CATALOG_PREFIX = 'catalog';

/** The catalog id of a journal item's asset. */
export function catalogIdOfItem(item: {
  readonly zone: { readonly database: string; readonly zoneName: string; readonly ownerRecordName?: string };
  readonly asset: string;
}): string {
  return catalogIdOf({ zone: item.zone, assetRecordName: item.asset });
}
