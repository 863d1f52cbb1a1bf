#!/usr/bin/env node
// Decodes a Lambda stack trace offline. The functions run their minified bundle without
// `--enable-source-maps` (it would cost every cold start about 0.17 CPU-s and 23 MiB), so a
// logged stack names positions in `/var/task/index.mjs`. The source map is the one CDK wrote
// beside the bundle: `npx cdk synth` at the deployed commit rebuilds the same bundle and map
// (cdk.out/asset.<hash>/index.mjs.map; docs/deploy.md, "Reading a stack trace").
//
//   node scripts/decode-stack.mjs <index.mjs.map> [file with the stack]   (else stdin)
//
// Each `index.mjs:<line>:<column>` becomes `functions/...ts:<line>:<column>` (or the package
// file under node_modules/) with the original name where the map has it; other text is kept.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const FRAME = /((?:file:\/\/)?[^\s()]*?index\.mjs):(\d+):(\d+)/g;

/** `functions/app/x.ts` or `node_modules/pkg/y.js` out of however the bundler wrote the path. */
function readablePath(source) {
  const path = source.startsWith('file://') ? fileURLToPath(source) : source;
  const at = path.lastIndexOf('node_modules/');
  if (at >= 0) return path.slice(at);
  const ours = /(?:^|\/)((?:functions|infra|simulator)\/.*)$/.exec(path);
  return ours?.[1] ?? path.replace(/^(\.\.\/)+/, '');
}

/** `text` with every bundle position replaced by its original one (`map`: the parsed source map). */
export function decodeStack(text, map) {
  const sourceMap = new SourceMap(map);
  return text.replace(FRAME, (frame, _file, line, column) => {
    const entry = sourceMap.findEntry(Number(line) - 1, Number(column) - 1);
    if (entry === undefined || entry.originalSource === undefined) return frame;
    const position = `${readablePath(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    return entry.name ? `${position} [${entry.name}]` : position;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mapPath, stackPath] = process.argv.slice(2);
  if (mapPath === undefined || mapPath === '--help' || mapPath === '-h') {
    process.stderr.write('usage: node scripts/decode-stack.mjs <index.mjs.map> [file with the stack]\n');
    process.exit(mapPath === undefined ? 2 : 0);
  }
  const map = JSON.parse(readFileSync(mapPath, 'utf8'));
  const text = readFileSync(stackPath ?? 0, 'utf8');
  process.stdout.write(decodeStack(text, map));
}
