/**
 * The one error of Shared Albums that is not a transport error: the album is no longer visible
 * to the caller (left, deleted by its owner, removed). Classified `fatal` by name (errors.ts):
 * asking again gives the same answer; the next listing drops the album.
 */
export class SharedAlbumGoneError extends Error {
  override readonly name = 'SharedAlbumGoneError';
  readonly albumguid: string;
  constructor(albumguid: string) {
    super(`shared album ${albumguid} is no longer visible to this account`);
    this.albumguid = albumguid;
  }
}

/**
 * A new item waits for its library twin (library-copy.ts `libraryTwinComing`): classified
 * `retryable` by name (errors.ts), so the album's work comes back after the visibility timeout and
 * references the original then, instead of storing a second copy now.
 */
export class LibraryTwinPendingError extends Error {
  override readonly name = 'LibraryTwinPendingError';
}

/**
 * A `gone` item delivered before the album list records the album gone (the detector enqueues it
 * first, then saves the list): classified `retryable` by name (errors.ts), so it comes back after
 * the visibility timeout, when the save has landed or is known lost (archive-shared-album.ts).
 */
export class GoneNotRecordedError extends Error {
  override readonly name = 'GoneNotRecordedError';
}
