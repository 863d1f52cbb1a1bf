/**
 * `node --import tsx infra/bundle-lambda.ts <repository root> <entry> <output dir>`: builds one
 * function's bundle as infra/lambda-bundle.ts says. The stack runs it as a child process from its
 * local bundling step (CDK bundles synchronously; esbuild's plugins need its asynchronous API).
 */
import { bundleLambda } from './lambda-bundle.ts';

const [root, entry, outDir] = process.argv.slice(2);
if (root === undefined || entry === undefined || outDir === undefined) {
  process.stderr.write('usage: bundle-lambda.ts <repository root> <entry> <output dir>\n');
  process.exit(2);
}
await bundleLambda(root, entry, outDir);
