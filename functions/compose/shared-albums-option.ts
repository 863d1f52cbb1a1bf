/** Whether and how often a local run lists Shared Albums (`sync --no-shared-albums`, `--shared-albums-every`). */
export interface SharedAlbumsOption {
  readonly enabled: boolean;
  /** Least time between two listings (ms); 0: every run. */
  readonly cadenceMs: number;
}

export const DEFAULT_SHARED_ALBUMS: SharedAlbumsOption = { enabled: true, cadenceMs: 0 };
