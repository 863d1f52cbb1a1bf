import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  compactSdkErrors,
  sdkClientPackageVersionOnly,
  sdkErrorClassesCompact,
  sdkEventSigningLeftOut,
  sdkJsHashFallbacksLeftOut,
  sdkWebStreamsLeftOut,
} from '../../infra/lambda-bundle.ts';

/**
 * The esbuild plugins of the Lambda bundles, each on the very file it rewrites (the bundles as a
 * whole are run by test/e2e/lambda-bundle.test.ts and measured by bundles.test.ts).
 */
const repositoryRoot = join(import.meta.dirname, '..', '..');
const requireHere = createRequire(join(repositoryRoot, 'package.json'));

/** The root directory of the installed package `specifier` (`@scope/name`). */
function packageDir(specifier: string): string {
  let dir = dirname(requireHere.resolve(specifier));
  while (!dir.endsWith(join('node_modules', ...specifier.split('/').slice(0, 2)))) dir = dirname(dir);
  return dir;
}

/** Bundles `source` (resolved from `resolveDir`) with `plugin` and imports the result. */
async function bundleAndImport(
  source: string,
  resolveDir: string,
  plugin: Plugin,
): Promise<Record<string, unknown>> {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    plugins: [plugin],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<
    string,
    unknown
  >;
}

describe('the Lambda bundles’ esbuild plugins', () => {
  it.each(['client-s3', 'client-dynamodb', 'client-sqs', 'client-secrets-manager'])(
    "writes @aws-sdk/%s's error classes compactly, each error as the SDK's class makes it",
    async (client) => {
      const dir = join(packageDir(`@aws-sdk/${client}`), 'dist-es');
      // The plugin's reading of the file holds for this SDK version (else it leaves it as it is).
      const text = readFileSync(join(dir, 'models', 'errors.js'), 'utf8');
      expect(compactSdkErrors(text)?.length).toBeLessThan(text.length / 2);
      const source = 'export * from "./models/errors.js";';
      const none: Plugin = { name: 'none', setup: () => undefined };
      const [real, compact] = await Promise.all([
        bundleAndImport(source, dir, none),
        bundleAndImport(source, dir, sdkErrorClassesCompact),
      ]);
      expect(Object.keys(compact).sort()).toEqual(Object.keys(real).sort());
      type ErrorClass = (new (opts: object) => Error & Record<string, unknown>) & { shapeId?: string };
      for (const [name, Real] of Object.entries(real) as [string, ErrorClass][]) {
        const Compact = compact[name] as ErrorClass;
        const fields = [...text.matchAll(new RegExp(`class ${name} [^]*?\\n}`, 'g'))].flatMap(([body]) =>
          [...body.matchAll(/this\.(\w+) = opts/g)].map(([, field]) => field ?? ''),
        );
        const opts = {
          message: 'refused',
          $metadata: { httpStatusCode: 400, requestId: 'r' },
          ...Object.fromEntries(fields.map((field) => [field, { of: field }])),
        };
        const [a, b] = [new Real(opts), new Compact(opts)];
        const seen = (e: Error & Record<string, unknown>) => ({
          name: e.name,
          message: e.message,
          fault: e.$fault,
          retryable: e.$retryable,
          metadata: e.$metadata,
          fields: fields.map((field) => e[field]),
          // esbuild renames the SDK's classes apart from their export (`_AccessDenied`).
          constructor: e.constructor.name.replace(/^_/, ''),
          own: e instanceof (e.constructor as ErrorClass),
          error: e instanceof Error,
          base: Object.getPrototypeOf(Object.getPrototypeOf(e)).constructor.name,
          keys: Object.keys(e).sort(),
        });
        expect(seen(b)).toEqual(seen(a));
        expect(b).toBeInstanceOf(Compact);
        expect(Compact.shapeId).toBe(Real.shapeId);
        expect(Compact.name).toBe(name);
      }
    },
  );

  it.each(['client-s3', 'client-dynamodb', 'client-sqs', 'client-secrets-manager'])(
    "keeps of @aws-sdk/%s's package.json the version its runtime config reads",
    async (client) => {
      const dir = packageDir(`@aws-sdk/${client}`);
      const real = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      const bundled = await bundleAndImport(
        // As dist-es/runtimeConfig.js imports it.
        'import packageInfo from "../package.json"; export default packageInfo;',
        join(dir, 'dist-es'),
        sdkClientPackageVersionOnly,
      );
      expect(bundled['default']).toEqual({ version: real['version'] });
      // The only field the client's Node build reads.
      const runtimeConfig = readFileSync(join(dir, 'dist-es', 'runtimeConfig.js'), 'utf8');
      expect([...runtimeConfig.matchAll(/packageInfo\.(\w+)/g)].map((m) => m[1])).toEqual(['version']);
    },
  );

  it.each([
    ['@smithy/core', 'dist-es/submodules/checksum/sha256/Sha256Node.js', 'Sha256Node', 'Sha256Js'],
    ['@smithy/core', 'dist-es/submodules/checksum/md5/Md5Node.js', 'Md5Node', 'Md5Js'],
    ['@aws-sdk/checksums', 'dist-es/submodules/sha/sha1/Sha1Node.js', 'Sha1Node', 'Sha1Js'],
  ])('keeps %s %s on Node crypto and its JS fallback out', async (pkg, file, nodeClass, jsClass) => {
    const dir = packageDir(pkg);
    const bundled = await bundleAndImport(
      `export { ${nodeClass} } from "./${file}"; export { ${jsClass} } from "./${file.replace(nodeClass, jsClass)}";`,
      dir,
      sdkJsHashFallbacksLeftOut,
    );
    const Native = bundled[nodeClass] as new () => {
      update(data: Uint8Array): void;
      digest(): Promise<Uint8Array>;
    };
    const Fallback = bundled[jsClass] as new () => unknown;
    // This Node has the algorithm, so the native class is the one the SDK uses: it hashes.
    const hash = new Native();
    hash.update(new Uint8Array([1, 2, 3]));
    expect((await hash.digest()).length).toBeGreaterThan(0);
    expect(() => new Fallback()).toThrow(`${jsClass}: not in this Lambda bundle`);
  });

  describe('the SDK stream helpers without their web-stream branches', () => {
    const utilStream = 'dist-es/submodules/serde/util-stream';
    const helpers = () =>
      bundleAndImport(
        [
          `export { sdkStreamMixin } from "./${utilStream}/sdk-stream-mixin.js";`,
          `export { streamCollector } from "./${utilStream}/stream-collector.js";`,
          `export { getAwsChunkedEncodingStream } from "./${utilStream}/getAwsChunkedEncodingStream.js";`,
          `export { createChecksumStream } from "./${utilStream}/checksum/createChecksumStream.js";`,
        ].join('\n'),
        packageDir('@smithy/core'),
        sdkWebStreamsLeftOut,
      );

    it('still read and collect Node streams, as the SDK’s Node HTTP handler gives them', async () => {
      const { sdkStreamMixin, streamCollector } = (await helpers()) as {
        sdkStreamMixin: (s: unknown) => { transformToString(): Promise<string> };
        streamCollector: (s: unknown) => Promise<Uint8Array>;
      };
      expect(await sdkStreamMixin(Readable.from([Buffer.from('a body')])).transformToString()).toBe('a body');
      expect(Buffer.from(await streamCollector(Readable.from([Buffer.from('bytes')]))).toString()).toBe(
        'bytes',
      );
    });

    it('refuse a web stream or a Blob, loudly', async () => {
      const { sdkStreamMixin, streamCollector, getAwsChunkedEncodingStream, createChecksumStream } =
        (await helpers()) as Record<string, (...args: unknown[]) => unknown>;
      const web = () => new ReadableStream({ start: (c) => c.close() });
      expect(() => sdkStreamMixin?.(web())).toThrow(/Unexpected stream implementation/);
      await expect(async () => streamCollector?.(new Blob(['x']))).rejects.toThrow(
        /web stream or Blob reached .*: not in this Lambda bundle/,
      );
      expect(() => getAwsChunkedEncodingStream?.(web(), {})).toThrow(
        /web stream or Blob reached .*: not in this Lambda bundle/,
      );
      expect(() => createChecksumStream?.({ source: web() })).toThrow(
        /reached checksum\/createChecksumStream\.browser\.js: not in this Lambda bundle/,
      );
    });
  });

  it('keeps SigV4 signing requests and leaves out the signing of event-stream messages', async () => {
    const { SignatureV4 } = (await bundleAndImport(
      'export { SignatureV4 } from "./dist-es/SignatureV4.js";',
      packageDir('@smithy/signature-v4'),
      sdkEventSigningLeftOut,
    )) as { SignatureV4: new (init: unknown) => SigV4 };
    class Sha256 {
      readonly #hash;
      constructor(secret?: string | Uint8Array) {
        this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
      }
      update(data: string | Uint8Array) {
        this.#hash.update(data);
      }
      async digest() {
        return new Uint8Array(this.#hash.digest());
      }
    }
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'https:',
      hostname: 'example.com',
      path: '/',
      headers: { host: 'example.com' },
    });
    expect(signed.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID\//);
    await expect(
      signer.signMessage({ message: { headers: {}, body: new Uint8Array() }, priorSignature: '' }, {}),
    ).rejects.toThrow('signing event-stream messages: not in this Lambda bundle');
  });
});

interface SigV4 {
  sign(request: unknown): Promise<{ headers: Record<string, string> }>;
  signMessage(message: unknown, options: unknown): Promise<unknown>;
}
