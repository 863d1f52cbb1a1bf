/**
 * `icloud-s3 debug records FILE`: reads a saved CloudKit response (records/query, records/lookup,
 * changes/zone, the count batch; raw JSON or a recorded cassette) and prints, as JSON, what the
 * records map to: assets with each version's planned file name (a Live Photo's video named as
 * `sync` would name it: `--live-video-name`, else `$LIVE_VIDEO_NAME`), size and kind, asset-only
 * changes, albums, memberships, tombstones, and every record that could not be read. Offline.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { InvalidInputError } from '#domain/errors.ts';
import type { ZoneChange } from '#domain/model/asset.ts';
import type { DatabaseScope, ZoneRef } from '#domain/model/zone.ts';
import { versionFileName } from '#domain/plan/file-name.ts';
import type { LiveVideoName } from '#domain/plan/live-video-name.ts';
import { planVersions } from '#domain/plan/plan-versions.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { ENV } from '#shared/env-names.ts';
import { Output } from '../io/output.ts';
import { liveVideoNameSetting } from '../io/sync-settings.ts';

interface DebugOptions {
  readonly zone?: string;
  readonly database?: DatabaseScope;
  /** `--live-video-name`: suffix or original (default `$LIVE_VIDEO_NAME`, else suffix). */
  readonly liveVideoName?: string;
}

interface RecordList {
  readonly source: string;
  readonly database?: DatabaseScope;
  /** The zone the list's `changes/zone` entry names (its records may name none). */
  readonly zoneName?: string;
  readonly records: unknown;
}

const CLOUDKIT_PATH = /\/production\/(private|shared)\/([^?]+)/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `records` arrays of one response body (query/lookup, changes/zone, batch). */
function recordListsOf(body: unknown, source: string, database?: DatabaseScope): RecordList[] {
  if (!isObject(body)) return [];
  const at = (records: unknown, suffix: string, zoneName?: unknown): RecordList => ({
    source: `${source}${suffix}`,
    records,
    ...(database ? { database } : {}),
    ...(typeof zoneName === 'string' ? { zoneName } : {}),
  });
  if (Array.isArray(body['records'])) return [at(body['records'], '')];
  const entries = Array.isArray(body['zones'])
    ? body['zones']
    : Array.isArray(body['batch'])
      ? body['batch']
      : [];
  return entries.flatMap((entry, i) =>
    isObject(entry) && Array.isArray(entry['records'])
      ? [at(entry['records'], `[${i}]`, isObject(entry['zoneID']) ? entry['zoneID']['zoneName'] : undefined)]
      : [],
  );
}

/** Every record list in a file: a raw CloudKit body, or the CloudKit answers of a cassette. */
export function recordListsOfFile(json: unknown): RecordList[] {
  if (isObject(json) && Array.isArray(json['interactions'])) {
    return json['interactions'].flatMap((interaction, i) => {
      const uri =
        isObject(interaction) && isObject(interaction['request']) ? interaction['request']['uri'] : undefined;
      const match = typeof uri === 'string' ? CLOUDKIT_PATH.exec(uri) : null;
      const body =
        isObject(interaction) && isObject(interaction['response'])
          ? interaction['response']['body']
          : undefined;
      if (!match || !isObject(body)) return [];
      return recordListsOf(body['json'], `interaction ${i} ${match[2]}`, match[1] as DatabaseScope);
    });
  }
  return recordListsOf(json, 'body');
}

/**
 * The zone the records (or their `changes/zone` entry) say they are in, unless the caller named
 * one; else the own library's usual name (an account may have `PrimarySync1` instead: `--zone`).
 */
function zoneOf(list: RecordList, options: DebugOptions): ZoneRef {
  const first = Array.isArray(list.records) ? list.records.find(isObject) : undefined;
  const zoneID = first && isObject(first['zoneID']) ? first['zoneID'] : undefined;
  const named = typeof zoneID?.['zoneName'] === 'string' ? zoneID['zoneName'] : undefined;
  return {
    database: options.database ?? list.database ?? 'private',
    zoneName: options.zone ?? named ?? list.zoneName ?? 'PrimarySync',
  };
}

function describeChange(change: ZoneChange, liveVideoName: LiveVideoName): unknown {
  if (change.type !== 'asset') return change;
  const { asset } = change;
  const planned = planVersions(asset, DEFAULT_VERSION_POLICY);
  return {
    type: 'asset',
    asset: {
      ...asset,
      versions: asset.versions.map((version) => {
        const plan = planned.find((p) => p.kind === version.kind);
        return {
          kind: version.kind,
          resourceField: version.resourceField,
          size: version.size,
          uti: version.uti,
          fileChecksum: version.fileChecksum,
          fileName: versionFileName(
            asset,
            plan ?? { kind: version.kind, role: 'preview', version, objectId: '' },
            { liveVideoName },
          ),
          planned: plan ? plan.role : false,
        };
      }),
    },
  };
}

export async function debugRecords(file: string, options: DebugOptions): Promise<unknown> {
  // As `sync` resolves it, before the file is read: a naming it does not know fails first.
  const liveVideoName = liveVideoNameSetting(options);
  // Imported here: `debug records --help` loads no record mapping (nor zod, its schemas').
  const { mapRecords } = await import('#adapters/icloud/records/map-records.ts');
  // A missing or unreadable file fails as itself (the CLI says the file does not exist).
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${file} is not a JSON file`, { cause: error });
  }
  const lists = recordListsOfFile(json);
  if (lists.length === 0) throw new InvalidInputError(`${file} holds no CloudKit records list`);
  return lists.map((list) => {
    const zone = zoneOf(list, options);
    const mapped = mapRecords(list.records, zone);
    return {
      source: list.source,
      zone,
      changes: mapped.changes.map((change) => describeChange(change, liveVideoName)),
      errorItems: mapped.errorItems,
      problems: mapped.problems.map((p) => p.message),
      unpairedMasters: mapped.unpairedMasters,
      ignoredTypes: mapped.ignoredTypes,
    };
  });
}

export function debugCommand(): Command {
  const debug = new Command('debug').description('tools for looking at what Apple sends');
  debug.addCommand(
    new Command('records')
      .description('print what a saved CloudKit response maps to (assets, versions, changes) as JSON')
      .argument('<file>', 'a CloudKit response body or a recorded cassette (JSON)')
      .option(
        '--zone <name>',
        'the zone the records are from (default: as the records or their zone entry say, else PrimarySync)',
      )
      .addOption(new Option('--database <database>', 'private or shared').choices(['private', 'shared']))
      .option(
        '--live-video-name <naming>',
        `how a HEIC Live Photo's video is named: suffix (IMG_0001_HEVC.MOV) or original (IMG_0001.MOV), as sync would name it (default $${ENV.liveVideoName} or suffix)`,
      )
      .addHelpText(
        'after',
        `
Examples:
  npx icloud-s3 debug records saved-query.json              a records/query or changes/zone body
  npx icloud-s3 debug records lookup.json --zone SharedSync-1A2B3C4D-0000-4000-8000-000000000000 --database shared
  npx icloud-s3 debug records test/fixtures/recorded/icloudpd/listing_videos.json   Apple's recorded answers

The file may be a raw CloudKit response or a recorded exchange: the repository keeps Apple's in
test/fixtures/recorded/icloudpd/ (its README says what each holds; gunzip the .gz first).
Download URLs are never printed.`,
      )
      .action(async (file: string, options: DebugOptions, command: Command) => {
        const recordLists = await debugRecords(file, options);
        // For a person the lists themselves, indented; with --json one result line like every command's.
        if (!command.optsWithGlobals<{ json?: boolean }>().json)
          process.stdout.write(`${JSON.stringify(recordLists, null, 2)}\n`);
        else new Output({ json: true }).result({ status: 'ok', file, recordLists });
      }),
  );
  return debug;
}
