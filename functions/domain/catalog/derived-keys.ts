/**
 * Objects the archive derives from what it knows rather than copies from iCloud: the catalog
 * (`catalog/`), the album views (`albums/`) and XMP sidecars (`<object>.xmp`). `verify` compares
 * iCloud's files with the bucket and leaves these out; they are rebuilt, never archived.
 */
import { ALBUMS_PREFIX } from '../albums/album-paths.ts';
import { CATALOG_PREFIX } from './journal-ids.ts';
import { sidecarKeyOf } from './xmp-sidecar.ts';

/** Whether `key` is derived (catalog, album view, sidecar) rather than an archived file. */
export function isDerivedKey(key: string): boolean {
  return (
    key.startsWith(`${CATALOG_PREFIX}/`) || key.startsWith(ALBUMS_PREFIX) || key.endsWith(sidecarKeyOf(''))
  );
}
