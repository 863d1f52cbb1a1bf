/**
 * The CLI's client of a deployed archive (`openAwsArchive`: `status`, `verify`, `verify --repair`)
 * writes to the bucket as the Lambdas do: no CRC32 the SDK computes over every body, no
 * `Expect: 100-continue` on bodies of 2 MiB or more (ARCHIVE_S3_CLIENT_CONFIG says why). A plain
 * HTTP server stands in for S3 and records what each request carried.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAwsArchive } from '#compose/archive-access.ts';

const MIB = 1024 * 1024;

interface Recorded {
  readonly method: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bytes: number;
}

describe("the CLI's deployed-archive S3 client", () => {
  const recorded: Recorded[] = [];
  let server: http.Server;
  const saved: Record<string, string | undefined> = {};
  const env = {
    AWS_ENDPOINT_URL_S3: '',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret-for-a-local-server',
    AWS_REGION: 'eu-west-1',
    AWS_S3_FORCE_PATH_STYLE: 'true',
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      req.on('end', () => {
        recorded.push({ method: req.method ?? '', headers: req.headers, bytes });
        res.writeHead(200, { ETag: '"0123456789abcdef0123456789abcdef"' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('puts a 3 MiB body without a CRC32 and without Expect: 100-continue, as the Lambdas do', async () => {
    const archive = openAwsArchive({ bucket: 'archive', table: 'state' });
    try {
      await archive.objects.putBytes('catalog/assets/000.jsonl', new Uint8Array(3 * MIB).fill(7), {
        contentType: 'application/x-ndjson',
      });
    } finally {
      await archive.close();
    }
    const put = recorded.find((r) => r.method === 'PUT');
    expect(put?.bytes).toBe(3 * MIB);
    expect(put?.headers.expect).toBeUndefined();
    expect(Object.keys(put?.headers ?? {}).filter((name) => name.startsWith('x-amz-checksum-'))).toEqual([]);
    // The integrity S3 checks is still there: the MD5 the store computed.
    expect(put?.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
