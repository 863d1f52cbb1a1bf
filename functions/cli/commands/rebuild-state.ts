/**
 * `icloud-s3 rebuild-state`: rebuilds the state store from the bucket alone (the catalog and the
 * archived objects' metadata), downloading no photo. For a lost or deleted state table (`--aws`) or
 * local state folder; the next sync then walks the library once and downloads nothing it has.
 */
import { Command } from 'commander';
import { type AwsTargetOptions, addAwsTargetOptions, openTarget } from './status.ts';

export function rebuildStateCommand(): Command {
  return addAwsTargetOptions(
    new Command('rebuild-state').description(
      'rebuild the manifest from the bucket (catalog and object metadata), downloading no photo',
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 rebuild-state                      the local archive in ./.icloud-s3
  npx icloud-s3 rebuild-state --local ~/photo-archive --json
  npx icloud-s3 rebuild-state --aws --stack IcloudS3 --region eu-west-1

Entries the state store already has are kept as they are. Then run a sync: it walks the whole
library once and finds every archived photo in place.

Exit codes: 0 rebuilt, 1 the bucket or the state store could not be read or written, 2 usage.`,
    )
    .action(async (options: AwsTargetOptions, command: Command) => {
      // Imported when it runs: `rebuild-state --help` loads no state store, SDK or zod (issue 12).
      const [{ cliContext }, { rebuildState }] = await Promise.all([
        import('../context.ts'),
        import('#app/rebuild-state.ts'),
      ]);
      const ctx = cliContext(command);
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      const access = await openTarget(options, globals);
      try {
        const result = await rebuildState({
          state: access.state,
          objects: access.objects,
          ...(access.sharedAlbumState === undefined ? {} : { sharedState: access.sharedAlbumState }),
          logger: ctx.logger,
        });
        ctx.output.result({ status: 'ok', archive: access.where, ...result });
        if (!ctx.output.json) {
          ctx.output.info(`Rebuilt the state of the ${access.where} from its bucket:`);
          ctx.output.info(
            `  ${result.catalogRecords} assets from ${result.catalogShards} catalog shards, ${result.objectsFromMetadata} objects from their metadata`,
          );
          ctx.output.info(
            `  ${result.entriesWritten} manifest entries written, ${result.entriesKept} already there, ${result.objectsCounted} objects counted`,
          );
          if (result.sharedAlbums !== undefined)
            ctx.output.info(
              `  ${result.sharedAlbums} Shared Albums with ${result.sharedItems} items from their catalog lines (${result.sharedAlbumsKept} already there), ${result.libraryReferences} stored once with the library`,
            );
          if ((result.unresolvedReferences?.length ?? 0) > 0)
            ctx.output.info(
              `  ${result.unresolvedReferences?.length} Shared Album items reference a library object whose photo is unknown (the library's mirror may delete it)`,
            );
          if (result.objectsUnknown.length > 0)
            ctx.output.info(
              `  ${result.objectsUnknown.length} objects name no asset in their metadata (left alone)`,
            );
          if (result.claimConflicts.length > 0)
            ctx.output.info(
              `  ${result.claimConflicts.length} keys were claimed by another object (left alone)`,
            );
        }
      } finally {
        await access.close();
      }
    });
}
