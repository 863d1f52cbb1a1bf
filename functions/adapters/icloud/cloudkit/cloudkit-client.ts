/**
 * The CloudKit web-services calls of iCloud Photos (docs/protocol/cloudkit.md), one typed method per endpoint, over
 * the adapter's `IcloudHttp`. Answers are parsed with the wire schemas; every failure becomes one of
 * the domain's error classes (docs/protocol/cloudkit.md#errors). Throttling (HTTP 429/503, TRY_AGAIN_LATER, THROTTLED) and
 * transient server failures are retried in-process with `retry` from `#shared/retry.ts`.
 *
 * Records come back as `unknown[]`: the records mapping reads them one at a time.
 */

import { RateLimitedError, UnexpectedResponseError } from '#domain/errors.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import { parseRetryAfter, type RetryOptions, retry } from '#shared/retry.ts';
import type * as z from '#shared/zod.ts';
import { SignInThrottledError } from '../auth/throttle.ts';
import type { IcloudHttp } from '../http/types.ts';
import { type CloudKitErrorBody, errorFromCloudKit, errorFromHttpStatus } from './cloudkit-errors.ts';
import { DESIRED_KEYS } from './desired-keys.ts';
import {
  changesDatabaseSchema,
  changesZoneSchema,
  isErrorEntry,
  queryBatchSchema,
  reasonOnlyErrorSchema,
  recordsLookupSchema,
  recordsQuerySchema,
  topLevelErrorSchema,
  type WireZoneEntry,
  zonesListSchema,
} from './wire-schemas.ts';

/** The web app's build identifiers; stale values still work (docs/protocol/cloudkit.md#query-parameters). */
const CLIENT_BUILD_NUMBER = '2522Project44';
const CLIENT_MASTERING_NUMBER = '2522B2';
/** The most records CloudKit returns per page (docs/protocol/cloudkit.md#records-query, docs/protocol/sync-tokens.md#changes-zone). */
export const MAX_RESULTS_LIMIT = 200;

/** How the client retries; everything but `decide` of `#shared/retry.ts`. */
export type CloudKitRetryOptions = Omit<RetryOptions, 'decide'>;

export interface CloudKitClientOptions {
  readonly http: IcloudHttp;
  /** `webservices.ckdatabasews.url` of the current session (read per request: it may move). */
  readonly ckdatabasewsUrl: () => string;
  readonly dsid: string;
  readonly clientId: string;
  readonly retry?: CloudKitRetryOptions;
}

export interface ZonesListResult {
  readonly zones: readonly WireZoneEntry[];
}

export interface ChangesDatabaseResult {
  readonly zones: readonly WireZoneEntry[];
  readonly syncToken: string;
  readonly moreComing: boolean;
}

export interface ChangesZoneResult {
  readonly records: readonly unknown[];
  readonly syncToken: string;
  /** As Apple sent it: `null` happens (docs/protocol/sync-tokens.md#changes-zone) and is resolved by the caller. */
  readonly moreComing: boolean | null;
}

export interface QueryFilter {
  readonly fieldName: string;
  readonly comparator: 'EQUALS' | 'IN';
  readonly fieldValue: { readonly type: string; readonly value: unknown };
}

export interface RecordsQueryRequest {
  /** The index name (docs/protocol/cloudkit.md#indexes), e.g. `CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted`. */
  readonly recordType: string;
  readonly filterBy?: readonly QueryFilter[];
  readonly resultsLimit?: number;
  /** Omit for all fields; defaults to `DESIRED_KEYS`; `null` sends none. */
  readonly desiredKeys?: readonly string[] | null;
  readonly continuationMarker?: string;
}

export interface RecordsQueryResult {
  readonly records: readonly unknown[];
  readonly continuationMarker?: string;
  readonly syncToken?: string;
}

export interface RecordsLookupResult {
  readonly records: readonly unknown[];
  readonly syncToken?: string;
}

export interface IndexingState {
  readonly state: string;
  readonly progress?: number;
}

/** A zoneID as requests carry it: own zones by name, others' zones with their owner (docs/protocol/cloudkit.md#zones). */
export function zoneIdOf(zone: ZoneRef): Record<string, string> {
  return zone.ownerRecordName === undefined
    ? { zoneName: zone.zoneName }
    : { zoneName: zone.zoneName, ownerRecordName: zone.ownerRecordName, zoneType: 'REGULAR_CUSTOM_ZONE' };
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Only short hiccups are retried here: throttling, transient server answers, dropped connections. */
function isTransient(error: unknown): boolean {
  // A refresh that hit Apple's sign-in throttle: retrying would sign in again (docs/login.md).
  if (error instanceof SignInThrottledError) return false;
  if (error instanceof RateLimitedError) return true;
  if (error instanceof UnexpectedResponseError) return !error.permanent;
  const code = networkCode(error);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** Sees each `changes/database` answer (zones of every kind), e.g. to notice Shared Album zones for free. */
/** One `changes/database` exchange: the token sent (none: every zone), and the answer's. */
export interface DatabaseChangesExchange {
  readonly sentToken?: string;
  readonly syncToken: string;
  readonly moreComing: boolean;
}

export type DatabaseChangesObserver = (
  database: DatabaseScope,
  zones: readonly WireZoneEntry[],
  exchange: DatabaseChangesExchange,
) => void;

/**
 * The calls that read the records of one zone: `records/lookup` (named assets with fresh download
 * URLs) and `changes/zone` (a Shared Album's items). The download workers make no others, and
 * their Lambda composes this alone; `CloudKitClient` adds the library's listing calls.
 */
export class CloudKitRecordsClient {
  readonly #options: CloudKitClientOptions;

  constructor(options: CloudKitClientOptions) {
    this.#options = options;
  }

  /**
   * One page of `POST …/{database}/changes/zone` (docs/protocol/sync-tokens.md#changes-zone). An absent (or empty) token is never
   * sent: `""` would mean "caught up" to CloudKit, not "from the beginning" (docs/protocol/sync-tokens.md#edge-cases).
   * Throws `StaleSyncTokenError` for a refused token and `ZoneNotFoundError` for a missing zone.
   */
  async changesZone(
    zone: ZoneRef,
    syncToken?: string,
    resultsLimit = MAX_RESULTS_LIMIT,
    /** Fields to ask for; `'all'` sends no `desiredKeys` (zones whose record shapes are not the library's). */
    desiredKeys: readonly string[] | 'all' = DESIRED_KEYS,
  ): Promise<ChangesZoneResult> {
    const sentToken = syncToken !== undefined && syncToken !== '';
    const request = {
      zones: [
        {
          zoneID: zoneIdOf(zone),
          ...(sentToken ? { syncToken } : {}),
          resultsLimit: Math.min(resultsLimit, MAX_RESULTS_LIMIT),
          ...(desiredKeys === 'all' ? {} : { desiredKeys }),
        },
      ],
    };
    const body = await this.call(zone.database, 'changes/zone', request, changesZoneSchema, {
      zoneName: zone.zoneName,
      sentToken,
    });
    const entry = body.zones[0]!;
    if (isErrorEntry(entry)) {
      throw errorFromCloudKit(entry, { operation: 'changes/zone', zoneName: zone.zoneName, sentToken });
    }
    const page = entry as { records: unknown[]; syncToken: string; moreComing?: boolean | null };
    return { records: page.records, syncToken: page.syncToken, moreComing: page.moreComing ?? null };
  }

  /** `POST …/{database}/records/lookup` (docs/protocol/cloudkit.md#records-lookup): current records with fresh download URLs. */
  async recordsLookup(zone: ZoneRef, recordNames: readonly string[]): Promise<RecordsLookupResult> {
    const request = {
      records: recordNames.map((recordName) => ({ recordName })),
      zoneID: zoneIdOf(zone),
      desiredKeys: DESIRED_KEYS,
    };
    const body = await this.call(zone.database, 'records/lookup', request, recordsLookupSchema, {
      zoneName: zone.zoneName,
    });
    return { records: body.records, ...(body.syncToken ? { syncToken: body.syncToken } : {}) };
  }

  #url(database: DatabaseScope, operation: string, withParams: boolean): string {
    const base = this.#options.ckdatabasewsUrl().replace(/\/+$/, '');
    const url = `${base}/database/1/com.apple.photos.cloud/production/${database}/${operation}`;
    if (!withParams) return url;
    const params = new URLSearchParams({
      clientBuildNumber: CLIENT_BUILD_NUMBER,
      clientMasteringNumber: CLIENT_MASTERING_NUMBER,
      clientId: this.#options.clientId,
      dsid: this.#options.dsid,
      remapEnums: 'true',
      getCurrentSyncToken: 'true',
    });
    return `${url}?${params.toString()}`;
  }

  /** One call, its answer parsed with `schema`; CloudKit's errors as the domain's, short hiccups retried. */
  protected async call<S extends z.ZodMiniType>(
    database: DatabaseScope,
    operation: string,
    json: unknown,
    schema: S,
    context: { readonly zoneName?: string; readonly sentToken?: boolean; readonly databaseToken?: boolean },
  ): Promise<z.infer<S>> {
    const errorContext = { operation, database, ...context };
    return retry(
      async () => {
        const response = await this.#options.http.send({
          method: 'POST',
          // Peers post zones/list without parameters (docs/protocol/cloudkit.md#query-parameters); every other call asks for the token.
          url: this.#url(database, operation, operation !== 'zones/list'),
          headers: {
            'Content-Type': 'text/plain;charset=UTF-8',
            Origin: 'https://www.icloud.com',
            Referer: 'https://www.icloud.com/',
            Accept: 'application/json',
          },
          json,
        });
        const text = await response.text();
        const body = parseJson(text);
        const ckError = cloudKitErrorOf(body);
        if (ckError) throw errorFromCloudKit(ckError, errorContext);
        if (response.status !== 200) {
          const retryAfter = parseRetryAfter(response.headers.get('retry-after'), Date.now());
          throw errorFromHttpStatus(response.status, body === undefined ? text : JSON.stringify(body), {
            operation,
            ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter / 1000 } : {}),
          });
        }
        if (body === undefined) {
          throw new UnexpectedResponseError(`CloudKit answered ${operation} with a body that is not JSON`);
        }
        const parsed = schema.safeParse(body);
        if (!parsed.success) {
          throw new UnexpectedResponseError(`CloudKit answered ${operation} in an unexpected shape`, {
            cause: parsed.error,
          });
        }
        return parsed.data;
      },
      {
        ...this.#options.retry,
        decide: (error) =>
          isTransient(error)
            ? {
                retry: true,
                ...(error instanceof RateLimitedError && error.retryAfterSeconds !== undefined
                  ? { retryAfterMs: error.retryAfterSeconds * 1000 }
                  : {}),
              }
            : { retry: false },
      },
    );
  }
}

/** Every call: the records' (`CloudKitRecordsClient`), and the zones, changes, queries and counts detection reads. */
export class CloudKitClient extends CloudKitRecordsClient {
  readonly #databaseObservers: DatabaseChangesObserver[] = [];

  /** `POST …/{database}/zones/list` (docs/protocol/cloudkit.md#zones). */
  async zonesList(database: DatabaseScope): Promise<ZonesListResult> {
    const body = await this.call(database, 'zones/list', {}, zonesListSchema, {});
    return { zones: body.zones };
  }

  /**
   * `POST …/{database}/changes/database` (docs/protocol/sync-tokens.md#changes-database); no token lists every zone.
   * Throws `StaleSyncTokenError` (with `database`) when CloudKit refuses the token.
   */
  async changesDatabase(database: DatabaseScope, syncToken?: string): Promise<ChangesDatabaseResult> {
    const body = await this.call(
      database,
      'changes/database',
      syncToken ? { syncToken } : {},
      changesDatabaseSchema,
      { sentToken: Boolean(syncToken), databaseToken: true },
    );
    const exchange = {
      ...(syncToken ? { sentToken: syncToken } : {}),
      syncToken: body.syncToken,
      moreComing: body.moreComing === true,
    };
    for (const observe of this.#databaseObservers) observe(database, body.zones, exchange);
    return { zones: body.zones, syncToken: body.syncToken, moreComing: body.moreComing === true };
  }

  /** Calls `observer` with every later `changes/database` answer. */
  observeDatabaseChanges(observer: DatabaseChangesObserver): void {
    this.#databaseObservers.push(observer);
  }

  /**
   * `POST …/{database}/records/query` (docs/protocol/cloudkit.md#records-query). Pass `continuationMarker` to continue a previous
   * page; page by rank with a `startRank` filter. The zone's current `syncToken` comes back on every page.
   */
  async recordsQuery(zone: ZoneRef, query: RecordsQueryRequest): Promise<RecordsQueryResult> {
    const desiredKeys = query.desiredKeys === undefined ? DESIRED_KEYS : query.desiredKeys;
    const request = {
      query: { recordType: query.recordType, ...(query.filterBy ? { filterBy: query.filterBy } : {}) },
      zoneID: zoneIdOf(zone),
      ...(query.resultsLimit !== undefined
        ? { resultsLimit: Math.min(query.resultsLimit, MAX_RESULTS_LIMIT) }
        : {}),
      ...(desiredKeys ? { desiredKeys } : {}),
      ...(query.continuationMarker ? { continuationMarker: query.continuationMarker } : {}),
    };
    const body = await this.call(zone.database, 'records/query', request, recordsQuerySchema, {
      zoneName: zone.zoneName,
    });
    return {
      records: body.records,
      ...(body.continuationMarker ? { continuationMarker: body.continuationMarker } : {}),
      ...(body.syncToken ? { syncToken: body.syncToken } : {}),
    };
  }

  /**
   * Counts of several object indexes in one request (`internal/records/query/batch` with
   * `HyperionIndexCountLookup`, docs/protocol/cloudkit.md#counts): one batch entry per index, so each answer maps to its
   * name. An index the zone lacks (an error entry, or no count) is absent from the result.
   */
  async countBatch(zone: ZoneRef, indexCountIds: readonly string[]): Promise<Map<string, number>> {
    const request = {
      batch: indexCountIds.map((id) => ({
        resultsLimit: 1,
        query: {
          recordType: 'HyperionIndexCountLookup',
          filterBy: {
            fieldName: 'indexCountID',
            comparator: 'IN',
            fieldValue: { type: 'STRING_LIST', value: [id] },
          },
        },
        zoneWide: true,
        zoneID: zoneIdOf(zone),
      })),
    };
    const body = await this.call(zone.database, 'internal/records/query/batch', request, queryBatchSchema, {
      zoneName: zone.zoneName,
    });
    const counts = new Map<string, number>();
    indexCountIds.forEach((id, i) => {
      const entry = body.batch[i];
      if (entry === undefined || isErrorEntry(entry)) return;
      const count = itemCountOf((entry as { records: unknown[] }).records[0]);
      if (count !== undefined) counts.set(id, count);
    });
    return counts;
  }

  /** `CheckIndexingState` (docs/protocol/cloudkit.md#checkindexingstate): `FINISHED`, or `RUNNING` with a progress. */
  async checkIndexingState(zone: ZoneRef): Promise<IndexingState> {
    const body = await this.recordsQuery(zone, { recordType: 'CheckIndexingState', desiredKeys: null });
    const fields = (body.records[0] as { fields?: Record<string, { value?: unknown }> } | undefined)?.fields;
    const state = fields?.['state']?.value;
    const progress = fields?.['progress']?.value;
    if (typeof state !== 'string') {
      throw new UnexpectedResponseError('CheckIndexingState answered without a state');
    }
    return { state, ...(typeof progress === 'number' ? { progress } : {}) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A top-level CloudKit error (code + reason) or the cookie-problem body, as a CloudKit error. */
function cloudKitErrorOf(body: unknown): CloudKitErrorBody | undefined {
  const coded = topLevelErrorSchema.safeParse(body);
  if (coded.success) {
    const { serverErrorCode, reason, serverErrorMessage, retryAfter } = coded.data;
    const text = reason ?? serverErrorMessage;
    return {
      serverErrorCode,
      ...(text !== undefined ? { reason: text } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    };
  }
  const reasonOnly = reasonOnlyErrorSchema.safeParse(body);
  if (reasonOnly.success && /missing x-apple-webauth/i.test(reasonOnly.data.reason)) {
    return { serverErrorCode: 'AUTHENTICATION_REQUIRED', reason: reasonOnly.data.reason };
  }
  return undefined;
}

function itemCountOf(record: unknown): number | undefined {
  const value = (record as { fields?: { itemCount?: { value?: unknown } } } | undefined)?.fields?.itemCount
    ?.value;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
