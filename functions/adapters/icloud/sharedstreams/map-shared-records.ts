/**
 * Reads `webgetalbumslist` entries and `webgetassets` records into the domain's shared-album
 * types (docs/protocol/shared-albums.md). Each item is one CPLMaster (the file) and one CPLAsset
 * (the album entry) joined by `masterRef`; a record that cannot be read is a problem for that
 * record only.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { SharedAlbum, SharedItem, SharedRendition } from '#domain/shared-albums/model.ts';
import {
  asRawFields,
  fieldValue,
  type RawFields,
  readAssetToken,
  readNumber,
  readReferenceName,
  readString,
} from '../records/field-values.ts';
import { fileNameOf } from '../records/file-name.ts';
import { wireAlbumSchema } from './wire-schemas.ts';

/**
 * Renditions in order of preference: the best copy Apple has first (`resOriginalRes`, itself the
 * reduced shared-album copy), then the smaller ones a few items carry instead.
 */
const RENDITION_FIELDS = ['resOriginal', 'resJPEGMed', 'resVidMed', 'resVidSmall', 'resJPEGThumb'] as const;

const EXTENSION_OF_UTI: Readonly<Record<string, string>> = {
  'public.jpeg': 'JPG',
  'public.heic': 'HEIC',
  'public.png': 'PNG',
  'com.compuserve.gif': 'GIF',
  'public.mpeg-4': 'MP4',
  'com.apple.quicktime-movie': 'MOV',
};

export interface MappedAlbums {
  readonly albums: readonly SharedAlbum[];
  readonly problems: readonly UnexpectedResponseError[];
}

export function mapAlbums(entries: readonly unknown[]): MappedAlbums {
  const albums: SharedAlbum[] = [];
  const problems: UnexpectedResponseError[] = [];
  for (const entry of entries) {
    const parsed = wireAlbumSchema.safeParse(entry);
    if (!parsed.success) {
      problems.push(
        new UnexpectedResponseError('webgetalbumslist listed an album without its guid or location'),
      );
      continue;
    }
    const a = parsed.data;
    const sharing = a.sharingtype?.toLowerCase();
    albums.push({
      albumguid: a.albumguid,
      name: a.attributes?.name ?? '',
      location: a.albumlocation,
      ctag: a.albumctag,
      ownerDsid: a.ownerdsid,
      // `owner` is accepted as a spelling of `owned` by one client; anything else is a subscription.
      sharingType: sharing === 'owned' || sharing === 'owner' ? 'owned' : 'subscribed',
      ...(a.attributes?.creationDate === undefined ? {} : { creationDate: a.attributes.creationDate }),
      isPublic: a.attributes?.ispublic ?? false,
    });
  }
  return { albums, problems };
}

interface RawRecord {
  readonly recordName: string;
  readonly recordType: string;
  readonly recordChangeTag: string;
  readonly fields: RawFields;
  readonly pluginFields: RawFields;
}

function rawRecord(value: unknown): RawRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r['recordName'] !== 'string' || typeof r['recordType'] !== 'string') return undefined;
  return {
    recordName: r['recordName'],
    recordType: r['recordType'],
    recordChangeTag: typeof r['recordChangeTag'] === 'string' ? r['recordChangeTag'] : '',
    fields: asRawFields(r['fields']),
    pluginFields: asRawFields(r['pluginFields']),
  };
}

function renditionOf(master: RawRecord): SharedRendition | undefined {
  for (const prefix of RENDITION_FIELDS) {
    const token = readAssetToken(master.fields, `${prefix}Res`);
    if (!token?.downloadURL || !token.fileChecksum) continue;
    const uti = readString(master.fields, `${prefix}FileType`) ?? 'public.data';
    // The resource's own `size` is 0 on this service: the byte count is in `<field>FileSize`.
    const size = readNumber(master.fields, `${prefix}FileSize`) ?? token.size ?? 0;
    const width = readNumber(master.fields, `${prefix}Width`);
    const height = readNumber(master.fields, `${prefix}Height`);
    return {
      field: `${prefix}Res`,
      downloadUrl: token.downloadURL,
      fileChecksum: token.fileChecksum,
      size,
      uti,
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
    };
  }
  return undefined;
}

export interface MappedItems {
  readonly items: readonly SharedItem[];
  readonly problems: readonly UnexpectedResponseError[];
}

/** Pairs one page's masters and assets; de-duplicates by asset record name. */
export function mapItems(records: readonly unknown[]): MappedItems {
  const masters = new Map<string, RawRecord>();
  const assets = new Map<string, RawRecord>();
  const problems: UnexpectedResponseError[] = [];
  for (const value of records) {
    const r = rawRecord(value);
    if (!r) {
      problems.push(new UnexpectedResponseError('webgetassets answered a record without name or type'));
      continue;
    }
    if (r.recordType === 'CPLMaster') masters.set(r.recordName, r);
    else if (r.recordType === 'CPLAsset') assets.set(r.recordName, r);
  }
  const items: SharedItem[] = [];
  for (const asset of assets.values()) {
    const masterName = readReferenceName(asset.fields, 'masterRef');
    const master = masterName === undefined ? undefined : masters.get(masterName);
    if (!master || masterName === undefined) {
      problems.push(new UnexpectedResponseError(`shared item ${asset.recordName} came without its master`));
      continue;
    }
    const rendition = renditionOf(master);
    if (!rendition) {
      problems.push(new UnexpectedResponseError(`shared item ${asset.recordName} has no downloadable file`));
      continue;
    }
    const named = fileNameOf(masterName, master.fields, EXTENSION_OF_UTI[rendition.uti]);
    const contributorDsid = readString(asset.fields, 'contributedBy');
    const contributorName =
      readString(asset.fields, 'contributorFullName') ??
      ([readString(asset.fields, 'contributorFirstName'), readString(asset.fields, 'contributorLastName')]
        .filter(Boolean)
        .join(' ') ||
        undefined);
    const addedDate = readNumber(asset.fields, 'addedDate');
    const captureDate = readNumber(master.fields, 'originalCreationDate');
    const duration = readNumber(asset.fields, 'duration');
    // The public web stream names each photo's text `caption`; read it when the record carries it.
    const caption = readString(asset.fields, 'caption');
    const likes = fieldValue(asset.pluginFields, 'likeCount');
    items.push({
      assetGuid: asset.recordName,
      masterRecordName: masterName,
      changeTag: asset.recordChangeTag,
      fileName: named.fileName,
      ...(contributorDsid === undefined ? {} : { contributorDsid }),
      ...(contributorName === undefined ? {} : { contributorName }),
      ...(addedDate === undefined ? {} : { addedDate }),
      ...(captureDate === undefined ? {} : { captureDate }),
      rendition,
      ...(duration === undefined ? {} : { durationSeconds: duration }),
      ...(caption === undefined || caption === '' ? {} : { caption }),
      likeCount: typeof likes === 'number' && Number.isFinite(likes) ? likes : Number(likes) || 0,
    });
  }
  return { items, problems };
}
