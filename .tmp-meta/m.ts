import { build } from 'esbuild';
import { lambdaBuildOptions } from '../infra/lambda-bundle.ts';
import { writeFileSync, statSync } from 'node:fs';
const root = process.cwd();
const out = '/tmp/det/index.mjs';
const r = await build({ ...lambdaBuildOptions(root, 'functions/entry/lambda/detect-changes.ts', out), metafile: true });
writeFileSync('/tmp/det/meta.json', JSON.stringify(r.metafile));
console.log('size', statSync(out).size);
const o = Object.values(r.metafile.outputs).find((x: any) => x.entryPoint)!;
const groups: Record<string, number> = {};
const files: [string, number][] = [];
for (const [k, v] of Object.entries((o as any).inputs)) {
  const n = (v as any).bytesInOutput;
  files.push([k, n]);
  const m = k.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const g = m ? m[1] : k.split('/').slice(0, 3).join('/');
  groups[g] = (groups[g] ?? 0) + n;
}
console.log(Object.entries(groups).sort((a, b) => b[1] - a[1]).slice(0, 40).map(([a, b]) => `${b}\t${a}`).join('\n'));
console.log('---');
console.log(files.sort((a, b) => b[1] - a[1]).slice(0, 60).map(([a, b]) => `${b}\t${a}`).join('\n'));
