/**
 * `icloud-s3 local serve`: the local archive's bucket over the S3 API on 127.0.0.1, read-only,
 * for rclone, the AWS CLI or any S3 client. The first line on stdout is one JSON object with
 * `status: "serving"` and what a client needs (`endpoint`, `bucket`, `region`, `accessKeyId`, `secretAccessKey`); it then
 * serves until SIGINT or SIGTERM and exits 0.
 */
import { Command, Option } from 'commander';
import { UsageError } from '../io/exit-codes.ts';
import { integerIn } from '../io/option-parsers.ts';
import type { JsonResult } from '../io/result-status.ts';
import { localDir } from './sync.ts';

/** Resolves on the first SIGINT or SIGTERM. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function serveCommand(): Command {
  return new Command('serve')
    .description('serve the local archive read-only over the S3 API on 127.0.0.1 (for rclone, aws s3...)')
    .addOption(
      new Option('--port <n>', 'port to listen on (default: a free one)').argParser(integerIn(0, 65_535)),
    )
    .addHelpText(
      'after',
      `
The first line on stdout is JSON: {"status":"serving","endpoint","bucket","region","accessKeyId","secretAccessKey"}.
Writes are refused (403 AccessDenied): the pipeline is the archive's only writer.

Examples:
  npx icloud-s3 local serve --port 9000
  RCLONE_CONFIG_ICS3_TYPE=s3 RCLONE_CONFIG_ICS3_PROVIDER=Other \\
  RCLONE_CONFIG_ICS3_ENDPOINT=http://127.0.0.1:9000 RCLONE_CONFIG_ICS3_ACCESS_KEY_ID=S3RVER \\
  RCLONE_CONFIG_ICS3_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_ICS3_FORCE_PATH_STYLE=true \\
    rclone lsl ics3:icloud-s3-archive      (see docs/rclone.md)

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 could not start, 2 usage (no archive at --local DIR, --port taken).`,
    )
    .action(async (options: { port?: number }, command: Command) => {
      const globals = command.optsWithGlobals<{ local?: string; sessionFile?: string }>();
      const dataDir = await localDir(globals);
      // Imported here, not above: `local serve --help` then loads no local servers (issue 12).
      const { serveArchive } = await import('#local/serve/serve-archive.ts');
      const server = await serveArchive({
        dataDir,
        ...(options.port === undefined ? {} : { port: options.port }),
      }).catch((error: unknown) => {
        // The person's choice of port, not a fault of ours: say so, and what to pick instead.
        if ((error as { code?: unknown }).code === 'EADDRINUSE' && options.port !== undefined) {
          throw new UsageError(`port ${options.port} on 127.0.0.1 is already in use`, {
            hint: 'Pick another --port, or leave --port out to get a free one.',
          });
        }
        throw error;
      });
      const stopped = untilStopped();
      // `status` first, as in every --json result (io/result-status.ts); then what a client needs.
      const line: JsonResult = { status: 'serving', ...server.served };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      process.stderr.write(
        `Serving ${dataDir} read-only at ${server.served.endpoint}, bucket ${server.served.bucket}. Ctrl-C stops.\n`,
      );
      await stopped;
      await server.stop();
    });
}

export function localCommand(): Command {
  return new Command('local')
    .description('work with the local archive (--local DIR, default ./.icloud-s3)')
    .addCommand(serveCommand().exitOverride());
}
