/**
 * Builds the iCloud adapters from a stored session: the asset source (CloudKit), the CDN
 * downloader, and the counter of requests to Apple they share. Used by both handlers and the
 * local runtime; the session store decides where the session lives (Secrets Manager or a file).
 * Each Lambda function opens its side alone, so neither bundle carries the other's adapters: the
 * change detector the library (`openIcloudLibrary`, no CDN), the download workers the CDN and a
 * lookup of named assets (`openIcloudDownloads`, no change feed, enumeration or albums).
 */
import { CdnDownloader } from '#adapters/icloud/cdn/cdn-downloader.ts';
import { NodeCdnTransport } from '#adapters/icloud/cdn/node-cdn-transport.ts';
import { CloudKitAssetLookup } from '#adapters/icloud/cloudkit/cloudkit-asset-lookup.ts';
import { CloudKitAssetSource } from '#adapters/icloud/cloudkit/cloudkit-asset-source.ts';
import {
  CloudKitClient,
  type CloudKitClientOptions,
  CloudKitRecordsClient,
} from '#adapters/icloud/cloudkit/cloudkit-client.ts';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import type { ExchangeObserver } from '#adapters/icloud/http/types.ts';
import { RequestCounter } from '#adapters/icloud/request-counter.ts';
import { type OpenedIcloudSession, openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import {
  CombinedSharedAlbumItems,
  CombinedSharedAlbumSource,
} from '#adapters/icloud/shared-collections/combined-shared-album-source.ts';
import {
  SharedCollectionsItems,
  SharedCollectionsSource,
} from '#adapters/icloud/shared-collections/shared-collections-source.ts';
import { SharedStreamsClient } from '#adapters/icloud/sharedstreams/sharedstreams-client.ts';
import {
  SharedStreamsItems,
  SharedStreamsSource,
} from '#adapters/icloud/sharedstreams/sharedstreams-source.ts';
import type { AssetLookup, AssetSource } from '#ports/asset-source.ts';
import type { MediaDownloader } from '#ports/media-download.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { SharedAlbumItems, SharedAlbumSource } from '#ports/shared-album-source.ts';
import type { Logger } from '#shared/logger.ts';

/** The library side: what detection reads (the change detector opens no more). */
export interface IcloudLibraryAdapters {
  readonly session: OpenedIcloudSession;
  readonly source: AssetSource;
  /** Shared Albums of both generations: legacy sharedstreams and SharedCollection zones (no request until asked). */
  readonly sharedAlbums?: SharedAlbumSource;
  /** Every request to Apple made through these adapters, by endpoint. */
  readonly requests: RequestCounter;
}

/** The download side: the CDN, a lookup of named assets and albums' items (the download workers open no more). */
export interface IcloudDownloadAdapters extends Omit<IcloudLibraryAdapters, 'source' | 'sharedAlbums'> {
  readonly source: AssetLookup;
  readonly downloader: MediaDownloader;
  /** Items and comments of Shared Albums of both generations (no listing: the detector lists). */
  readonly sharedAlbums?: SharedAlbumItems;
}

export interface IcloudAdapters extends IcloudLibraryAdapters {
  readonly downloader: MediaDownloader;
}

export interface IcloudAdapterOptions {
  readonly endpoint: IcloudEndpoint;
  readonly store: SessionStore;
  readonly logger: Logger;
  /** What a person should run when the session needs them. */
  readonly loginCommand?: string;
  /** Sees every exchange with Apple (`--trace`). */
  readonly observer?: ExchangeObserver;
  /** The clock that ages the trust estimate (tests follow the simulator's). */
  readonly now?: () => number;
  /** Records per CloudKit page (the source's default when absent; crash tests use small pages). */
  readonly pageSize?: number;
}

/** The library's change feed, enumeration and lookups, on the opened session. */
function assetSource(opened: { readonly client: CloudKitClient }, options: IcloudAdapterOptions) {
  return new CloudKitAssetSource({
    client: opened.client,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  });
}

/** Opens the stored session (no request yet) and builds every adapter on it (the CLI, the local runtime). */
export async function openIcloudAdapters(options: IcloudAdapterOptions): Promise<IcloudAdapters> {
  const opened = await openSession(options, CloudKitClient);
  return {
    ...sharedParts(opened),
    source: assetSource(opened, options),
    downloader: cdnDownloader(options, opened.requests),
  };
}

/** The change detector's: the library's adapters, no CDN. */
export async function openIcloudLibrary(options: IcloudAdapterOptions): Promise<IcloudLibraryAdapters> {
  const opened = await openSession(options, CloudKitClient);
  return {
    ...sharedParts(opened),
    source: assetSource(opened, options),
  };
}

/** The download workers': the CDN and a lookup of named assets, no change feed, enumeration or albums. */
export async function openIcloudDownloads(options: IcloudAdapterOptions): Promise<IcloudDownloadAdapters> {
  // CloudKit's record reads alone: the library's listing calls stay out of the workers' bundle.
  const { session, client, requests } = await openSession(options, CloudKitRecordsClient);
  return {
    session,
    sharedAlbums: new CombinedSharedAlbumItems(
      new SharedStreamsItems(sharedStreamsClient(session)),
      new SharedCollectionsItems(client),
    ),
    requests,
    source: new CloudKitAssetLookup({ client }),
    downloader: cdnDownloader(options, requests),
  };
}

interface OpenedSession<Client extends CloudKitRecordsClient> {
  readonly session: OpenedIcloudSession;
  readonly client: Client;
  readonly requests: RequestCounter;
}

/** The stored session (no request yet), its CloudKit client (a `Client`) and the counter of requests to Apple. */
async function openSession<Client extends CloudKitRecordsClient>(
  options: IcloudAdapterOptions,
  Client: new (options: CloudKitClientOptions) => Client,
): Promise<OpenedSession<Client>> {
  const requests = new RequestCounter();
  const session = await openIcloudSession({
    endpoint: options.endpoint,
    store: options.store,
    logger: options.logger,
    ...(options.loginCommand === undefined ? {} : { loginCommand: options.loginCommand }),
    // Counted where requests leave, so a refresh's sign-in calls and retries are counted too.
    onRequest: (url) => requests.record(url),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const client = new Client({
    http: session.http,
    ckdatabasewsUrl: () => session.ckdatabasewsUrl(),
    dsid: session.dsid,
    clientId: session.clientId,
  });
  return { session, client, requests };
}

/** What the library's openings have: the session, Shared Albums of both generations and the request counter. */
function sharedParts({ session, client, requests }: OpenedSession<CloudKitClient>) {
  return {
    session,
    sharedAlbums: new CombinedSharedAlbumSource(
      // A session stored before Shared Albums lacks the service: the listing may ask the account.
      new SharedStreamsSource(
        sharedStreamsClient(session),
        () => session.lookUpAccount?.() ?? Promise.resolve(),
      ),
      new SharedCollectionsSource(client),
    ),
    requests,
  };
}

/** The legacy Shared Albums' web service, on the session. */
function sharedStreamsClient(session: OpenedIcloudSession): SharedStreamsClient {
  return new SharedStreamsClient({
    http: session.http,
    baseUrl: () => session.sharedstreamsUrl?.(),
    dsid: session.dsid,
    clientId: session.clientId,
  });
}

function cdnDownloader(options: IcloudAdapterOptions, requests: RequestCounter): MediaDownloader {
  return new CdnDownloader(
    new NodeCdnTransport({
      endpoint: options.endpoint,
      onRequest: (url) => requests.record(url),
      ...(options.observer ? { observer: options.observer } : {}),
    }),
  );
}
