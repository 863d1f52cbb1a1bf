/**
 * A stand-in for the `sync` process in crash tests: starts the local S3 on argv[2], prints
 * `{ endpoint, childPid }` as one JSON line, and waits to be killed.
 */
import { startS3Server } from '#local/servers/s3-server.ts';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: s3-server-parent <data dir>');
const server = await startS3Server({ directory });
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, childPid: server.pid })}\n`);
setInterval(() => undefined, 60_000);
