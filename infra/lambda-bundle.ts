/**
 * How a Lambda function's bundle is built, in one place for the three that build it: the stack
 * (infra/pipeline-function.ts, through infra/bundle-lambda.ts in a child process, since CDK
 * bundles synchronously and esbuild's plugins need its asynchronous API), the bundle e2e test and
 * the benchmark. ESM for Node 22, minified, the AWS SDK inside (the code is tested against the SDK
 * versions pinned in package-lock.json, not whichever the runtime ships), the module substitutions
 * of lambda-bundle-aliases.ts, a source map beside the bundle (not loaded at run time: stack traces
 * are decoded offline with scripts/decode-stack.mjs), and the dependencies' licence notices in a
 * file beside it too.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { lambdaBundleAliases } from './lambda-bundle-aliases.ts';

/** The file Lambda loads (handler `index.handler`), and its source map beside it. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * Makes the AWS SDK clients' schema modules tree-shakeable. Each client keeps the schemas of all
 * its operations in one module (`schemas/schemas_0.js`), and many of them have computed keys such
 * as `{ [_st]: 1 }` with `const _st = "streaming"` above: esbuild cannot prove such a key free of
 * side effects, so it kept every schema, and every name they use, of every operation (S3's: 66 KB
 * of each bundle). Writing the constant's string in place of the computed key changes nothing at
 * run time and lets esbuild drop the schemas no imported command reaches.
 */
export const sdkSchemaKeysInlined: Plugin = {
  name: 'sdk-schema-keys-inlined',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/ },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        const strings = new Map<string, string>();
        for (const [, name, literal] of text.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) {
          if (name !== undefined && literal !== undefined) strings.set(name, literal);
        }
        const contents = text.replace(/([{,]\s*)\[(_\w+)\]:/g, (key, before: string, name: string) => {
          const literal = strings.get(name);
          return literal === undefined ? key : `${before}${literal}:`;
        });
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * Leaves out the AWS SDK's JavaScript hash implementations (SHA-256, MD5, SHA-1: 7.7 KB of each
 * bundle). Each is the fallback of a class that uses Node's `crypto` when `createHash` knows the
 * algorithm, and it always does where the functions run: the archive's own integrity checks (the
 * metered stream's MD5 and SHA-256) need the same `createHash`. In their place, a class of the same
 * name that throws when built, so a Node without these hashes fails at the SDK's first hash, loudly.
 */
export const sdkJsHashFallbacksLeftOut: Plugin = {
  name: 'sdk-js-hash-fallbacks-left-out',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      {
        filter:
          /[\\/](@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]checksum[\\/](sha256[\\/]Sha256Js|md5[\\/]Md5Js)|@aws-sdk[\\/]checksums[\\/]dist-es[\\/]submodules[\\/]sha[\\/]sha1[\\/]Sha1Js)\.js$/,
      },
      (args) => {
        const name = basename(args.path, '.js');
        const message = `${name}: not in this Lambda bundle (infra/lambda-bundle.ts), and Node's crypto lacks the hash`;
        return {
          contents: `export class ${name} { constructor() { throw new Error(${JSON.stringify(message)}); } }\n`,
          loader: 'js',
        };
      },
    );
  },
};

/** The web-stream branches of the SDK's stream helpers, by file (under util-stream/), and their exports. */
const SDK_WEB_STREAM_MODULES: Readonly<Record<string, readonly string[]>> = {
  'sdk-stream-mixin.browser.js': ['sdkStreamMixin'],
  'stream-collector.browser.js': ['streamCollector', 'collectBlob', 'collectReadableStream'],
  'getAwsChunkedEncodingStream.browser.js': ['getAwsChunkedEncodingStream'],
  'checksum/createChecksumStream.browser.js': ['createChecksumStream'],
};

/**
 * Leaves out the web-stream (and Blob) branches of the SDK's stream helpers (3.5 KB of each
 * bundle). The Node helpers hand a body to them only when it is a web `ReadableStream` or a
 * `Blob`, and none is here: the SDK's Node HTTP handler answers with Node streams, and the
 * functions send Buffers and Node streams. In their place, functions of the same names that throw,
 * so a web stream reaching the SDK fails loudly. esbuild refuses to build if an export a Node
 * helper imports is missing here.
 */
export const sdkWebStreamsLeftOut: Plugin = {
  name: 'sdk-web-streams-left-out',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      {
        filter:
          /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]serde[\\/]util-stream[\\/].*\.browser\.js$/,
      },
      (args) => {
        const file =
          args.path
            .split(/[\\/]util-stream[\\/]/)
            .at(-1)
            ?.replaceAll('\\', '/') ?? '';
        const names = SDK_WEB_STREAM_MODULES[file];
        if (names === undefined) return undefined;
        const message = `a web stream or Blob reached ${file}: not in this Lambda bundle (infra/lambda-bundle.ts)`;
        const contents = `const leftOut = () => { throw new Error(${JSON.stringify(message)}); };\nexport { ${names.map((name) => `leftOut as ${name}`).join(', ')} };\n`;
        return { contents, loader: 'js' };
      },
    );
  },
};

/**
 * Leaves out how SigV4 signs the messages of an event stream (`SignatureV4.signMessage`): the
 * `HeaderFormatter` that encodes their headers (2.3 KB of each bundle), built with every signer
 * but used by that method alone, for event streams, which these bundles leave out
 * (sdk-without-event-streams.ts). In its place, a class of the same name whose `format` throws.
 */
export const sdkEventSigningLeftOut: Plugin = {
  name: 'sdk-event-signing-left-out',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@smithy[\\/]signature-v4[\\/]dist-es[\\/]HeaderFormatter\.js$/ },
      () => {
        const message = 'signing event-stream messages: not in this Lambda bundle (infra/lambda-bundle.ts)';
        return {
          contents: `export class HeaderFormatter { format() { throw new Error(${JSON.stringify(message)}); } }\n`,
          loader: 'js',
        };
      },
    );
  },
};

/**
 * Keeps of each AWS SDK client's package.json what the client reads: its version (for the
 * User-Agent header). The client imports the whole file as a default export, which esbuild
 * cannot trim: 2.2-2.6 KB of each bundle per client (dependencies, scripts, description…).
 */
export const sdkClientPackageVersionOnly: Plugin = {
  name: 'sdk-client-package-version-only',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ }, async (args) => {
      const { version } = JSON.parse(await readFile(args.path, 'utf8')) as { readonly version: unknown };
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

/**
 * Marks the AWS SDK's paginator factories pure, so the paginators no code calls, and the commands
 * only they reach, are left out (lib-dynamodb's `paginateScan` kept its ScanCommand, the client's
 * and its schemas: 1.1 KB of the workers' bundle). Each paginator module is one top-level
 * `createPaginator(...)` call, which esbuild keeps unless told it has no side effects; it has
 * none: it only returns the paginating function.
 */
export const sdkPaginatorsPure: Plugin = {
  name: 'sdk-paginators-pure',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      {
        filter:
          /[\\/]@aws-sdk[\\/](lib-dynamodb|client-[^\\/]+)[\\/]dist-es[\\/]pagination[\\/]\w+Paginator\.js$/,
      },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        return {
          contents: text.replace(/= createPaginator\(/g, '= /* @__PURE__ */ createPaginator('),
          loader: 'js',
        };
      },
    );
  },
};

/**
 * Modules a function loads only on a rare path, by a dynamic `import()`: each is bundled on its own
 * beside `index.mjs` (`<name>.mjs`, its map and licence notices), which no cold start loads. Such a
 * module must import nothing the function's bundle holds (types aside): it would hold its own
 * copy; a copy of pure code is only bytes, but a class of its own breaks `instanceof` across the
 * two bundles, so the modules of such classes it needs it takes from `index.mjs` (`LAZY_HOST_MODULES`). The resumable upload of videos too long for one invocation, with hash-wasm's MD5 and
 * SHA-256 (23 KB), is one (functions/adapters/aws/s3-resumable-upload.ts). The workers' SQS client,
 * which sends a paused long video on in a new work message, is another
 * (functions/compose/work-continuation-sqs.ts): it holds its own copy of the SDK's core, loaded
 * only by an invocation that paused. Shared Albums' item work in the workers is a third
 * (functions/app/shared-albums-work.ts, 15 KB), loaded for a message that holds a shared album.
 * The detector's catalog fold is a fourth (functions/app/catalog-fold.ts), loaded only when the
 * journal holds objects: an idle run's journal is empty. The SRP sign-in a session refresh falls
 * back on when accountLogin does not suffice is a fifth (functions/adapters/icloud/auth/srp-sign-in.ts),
 * in both functions.
 */
export const LAZY_MODULES: readonly string[] = [
  'functions/adapters/aws/s3-resumable-upload.ts',
  'functions/compose/work-continuation-sqs.ts',
  'functions/domain/detect/retry-failed-photos.ts',
  'functions/app/shared-albums-work.ts',
  'functions/app/catalog-fold.ts',
  'functions/adapters/icloud/auth/srp-sign-in.ts',
];

/**
 * The modules a lazy module takes from the function's bundle rather than holding its own copy:
 * the domain's error classes, which both sides throw and check (`instanceof`, `classifyError`).
 * `index.mjs` hands each over when it loads (`lazyHostsHandedOver`), and the lazy bundle reads
 * them back in place of the module (`lazyHostsTaken`); loaded without `index.mjs`, it throws.
 */
export const LAZY_HOST_MODULES: Readonly<Record<string, readonly string[]>> = {
  // Its errors are caught and classified by index.mjs's session (`instanceof`), the throttle's
  // own class by the CloudKit client too.
  'functions/adapters/icloud/auth/srp-sign-in.ts': [
    'functions/domain/errors.ts',
    'functions/adapters/icloud/auth/throttle.ts',
  ],
  'functions/app/shared-albums-work.ts': [
    'functions/domain/errors.ts',
    'functions/domain/shared-albums/errors.ts',
  ],
};

/** Where `index.mjs` leaves the host modules for its lazy bundles, by repository path. */
const LAZY_HOSTS = 'Symbol.for("icloud-s3.lazy-hosts")';

/** An esbuild filter matching exactly these absolute paths. */
function exactPaths(paths: readonly string[]): RegExp {
  return new RegExp(`^(${paths.map((path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

/** Appends to each host module of the function's bundle the handing over of its exports. */
function lazyHostsHandedOver(repositoryRoot: string, hosts: readonly string[]): Plugin {
  const byPath = new Map(hosts.map((module) => [join(repositoryRoot, module), module]));
  return {
    name: 'lazy-hosts-handed-over',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: exactPaths([...byPath.keys()]) }, async (args) => {
        const module = byPath.get(args.path) ?? '';
        const text = await readFile(args.path, 'utf8');
        return {
          // A relative self-import (resolved from the module's own folder): an absolute one would
          // stay in the map's sourcesContent, naming the builder's checkout in the asset.
          contents: `${text}\nimport * as __lazyHost from ${JSON.stringify(`./${basename(args.path)}`)};\n((globalThis as any)[${LAZY_HOSTS}] ??= {})[${JSON.stringify(module)}] = __lazyHost;\n`,
          loader: 'ts',
        };
      });
    },
  };
}

/** In a lazy bundle, each host module read back from what `index.mjs` handed over. */
function lazyHostsTaken(repositoryRoot: string, hosts: readonly string[]): Plugin {
  const byPath = new Map(hosts.map((module) => [join(repositoryRoot, module), module]));
  return {
    name: 'lazy-hosts-taken',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: exactPaths([...byPath.keys()]) }, async (args) => {
        const module = byPath.get(args.path) ?? '';
        const names = await exportsOf(repositoryRoot, args.path);
        // Read back by name: a default export has none to declare.
        if (names.includes('default'))
          throw new Error(`${module}: a host module must have named exports alone`);
        const message = `${module}: loaded without the bundle that holds it (index.mjs, infra/lambda-bundle.ts)`;
        return {
          contents: `const host = globalThis[${LAZY_HOSTS}]?.[${JSON.stringify(module)}];
if (host === undefined) throw new Error(${JSON.stringify(message)});
export const { ${names.join(', ')} } = host;
`,
          loader: 'js',
        };
      });
    },
  };
}

/** The names a module exports (types aside). */
async function exportsOf(repositoryRoot: string, path: string): Promise<readonly string[]> {
  const { metafile } = await build({
    absWorkingDir: repositoryRoot,
    entryPoints: [path],
    bundle: false,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  return Object.values(metafile.outputs)[0]?.exports ?? [];
}

/** The file a lazy module is bundled to, beside `index.mjs`. */
export function lazyBundleFile(module: string): string {
  return `${basename(module, '.ts')}.mjs`;
}

/**
 * Leaves each dynamic `import()` of a `LAZY_MODULES` module out of the bundle, as an import of
 * its own bundle beside it, and records which were met (only those are built).
 */
function lazyModulesLeftOut(repositoryRoot: string, met: Set<string>): Plugin {
  const lazy = new Map(LAZY_MODULES.map((module) => [join(repositoryRoot, module), module]));
  return {
    name: 'lazy-modules-left-out',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /\.ts$/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const module = lazy.get(join(args.resolveDir, args.path));
        if (module === undefined) return undefined;
        met.add(module);
        return { path: `./${lazyBundleFile(module)}`, external: true };
      });
    },
  };
}

/** One error class of an AWS SDK client's `models/errors.js`, as `compactSdkErrors` reads it. */
interface SdkErrorClass {
  readonly name: string;
  readonly shapeId: string;
  readonly fault: string;
  /** `$retryable`'s initialiser (an object literal), when the class has one. */
  readonly retryable?: string;
  /** Members copied from the constructor's options (`this.Item = opts.Item`). */
  readonly fields: readonly string[];
}

const ERROR_CLASS =
  /^export class (\w+) extends __BaseException \{\n {4}static shapeId = ("[^"\n]+");\n {4}name = "\1";\n {4}\$fault = ("client"|"server");\n(?: {4}\$retryable = (\{[^}\n]*\});\n)?((?: {4}\w+;\n)*) {4}constructor\(opts\) \{\n {8}super\(\{\n {12}name: "\1",\n {12}\$fault: \3,\n {12}\.\.\.opts,\n {8}\}\);\n {8}Object\.setPrototypeOf\(this, \1\.prototype\);\n((?: {8}this\.(\w+) = opts\.\w+;\n)*) {4}\}\n\}\n/;

/**
 * The error classes of an AWS SDK client's `models/errors.js`, each made by one shared function in
 * place of its own class body (the same name, shape id, fault, `$retryable` and copied members);
 * undefined when the file holds anything else, which is then bundled as it is.
 */
export function compactSdkErrors(text: string): string | undefined {
  const header = /^import \{ (\w+) as __BaseException \} from "(\.\/\w+)";\n/.exec(text);
  if (header === null) return undefined;
  const classes: SdkErrorClass[] = [];
  let rest = text.slice(header[0].length);
  while (rest.length > 0) {
    const match = ERROR_CLASS.exec(rest);
    if (match === null) return undefined;
    const [whole, name = '', shapeId = '', fault = '', retryable, declared = '', copies = ''] = match;
    const fields = [...copies.matchAll(/this\.(\w+) = opts\.(\w+);/g)].map(([, to, from]) => {
      if (to !== from) throw new Error(`${name}: copies opts.${from} into ${to}`);
      return to ?? '';
    });
    // Every declared member is one the constructor copies: nothing else to initialise.
    const members = [...declared.matchAll(/(\w+);/g)].map(([, member]) => member);
    if (members.join() !== fields.join()) return undefined;
    classes.push({ name, shapeId, fault, fields, ...(retryable === undefined ? {} : { retryable }) });
    rest = rest.slice(whole.length);
  }
  const made = classes.map(
    (c) =>
      `export const ${c.name} = __error(${c.shapeId}, "${c.name}", ${c.fault}, ${JSON.stringify(c.fields)}${c.retryable === undefined ? '' : `, () => (${c.retryable})`});`,
  );
  return `${header[0]}const __error = (shapeId, name, fault, fields, retryable) => {
  const C = { [name]: class extends __BaseException {
    constructor(opts) {
      super({ name, $fault: fault, ...opts });
      this.name = name;
      this.$fault = fault;
      if (retryable !== undefined) this.$retryable = retryable();
      Object.setPrototypeOf(this, C.prototype);
      for (const field of fields) this[field] = opts[field];
    }
  } }[name];
  C.shapeId = shapeId;
  return C;
};
${made.join('\n')}
`;
}

/**
 * Writes the AWS SDK clients' error classes compactly (`compactSdkErrors`): every client keeps a
 * class per error its service may answer, each a dozen lines with its name three times, and a
 * bundle holds them all (the clients register each with their error schemas). 9.4 KB of the
 * workers' bundle, which made room for the resumable upload of long videos (its ListParts).
 */
export const sdkErrorClassesCompact: Plugin = {
  name: 'sdk-error-classes-compact',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]models[\\/]errors\.js$/ },
      async (args) => {
        const contents = compactSdkErrors(await readFile(args.path, 'utf8'));
        return contents === undefined ? undefined : { contents, loader: 'js' };
      },
    );
  },
};

/** esbuild's options for the function whose entry is `entry`, written to `outfile`. */
export function lambdaBuildOptions(repositoryRoot: string, entry: string, outfile: string): BuildOptions {
  return {
    absWorkingDir: repositoryRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    // The licence notices the dependencies ask to keep (tough-cookie's BSD text, 2.1 KB of the
    // workers' bundle) go to `index.mjs.LEGAL.txt` beside it, shipped with it but never parsed at
    // a cold start; the bundle's last comment names that file.
    legalComments: 'linked',
    // The SDK's and Powertools' ESM builds, which esbuild can tree-shake.
    mainFields: ['module', 'main'],
    alias: lambdaBundleAliases(repositoryRoot),
    plugins: [
      sdkSchemaKeysInlined,
      sdkJsHashFallbacksLeftOut,
      sdkWebStreamsLeftOut,
      sdkEventSigningLeftOut,
      sdkClientPackageVersionOnly,
      sdkPaginatorsPure,
      sdkErrorClassesCompact,
    ],
    // ESM bundles have no `require`; some CommonJS dependencies still call it.
    banner: {
      js: "import { createRequire as __icloudS3CreateRequire } from 'node:module'; const require = __icloudS3CreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  };
}

/**
 * Bundles `entry` into `outDir/index.mjs` (and its map), and each lazy module it imports into its
 * own file beside it (`LAZY_MODULES`); the bundle's path.
 */
export async function bundleLambda(repositoryRoot: string, entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, BUNDLE_FILE);
  const met = new Set<string>();
  const options = lambdaBuildOptions(repositoryRoot, entry, outfile);
  const plugins = [...(options.plugins ?? []), lazyModulesLeftOut(repositoryRoot, met)];
  await build({ ...options, plugins });
  const hostsOf = (module: string): readonly string[] => LAZY_HOST_MODULES[module] ?? [];
  const hosts = [...new Set([...met].flatMap(hostsOf))];
  // Which lazy modules the function meets is known once it is built: built again to hand them over.
  if (hosts.length > 0) {
    await build({ ...options, plugins: [...plugins, lazyHostsHandedOver(repositoryRoot, hosts)] });
  }
  for (const module of met) {
    const lazy = lambdaBuildOptions(
      repositoryRoot,
      join(repositoryRoot, module),
      join(outDir, lazyBundleFile(module)),
    );
    await build({
      ...lazy,
      plugins: [...(lazy.plugins ?? []), lazyHostsTaken(repositoryRoot, hostsOf(module))],
    });
  }
  return outfile;
}
