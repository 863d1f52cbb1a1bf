/** What the sign-in and setup handlers share. */
import type { AccountStore } from '../accounts/store.ts';
import type { Clock } from '../types.ts';
import type { IdmsaState } from './idmsa-state.ts';
import type { AuthSettings } from './settings.ts';

export interface AuthContext {
  readonly clock: Clock;
  readonly store: AccountStore;
  readonly idmsa: IdmsaState;
  readonly settings: AuthSettings;
}

/** The public web widget key of icloud.com (docs/protocol/sign-in.md#request-headers); IdMSA requires it on signin/*. */
export const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';

/** `Service Temporary Unavailable`: Apple's 29-byte throttling body (docs/protocol/limits.md#throttling). */
export const THROTTLE_BODY = 'Service Temporary Unavailable';
