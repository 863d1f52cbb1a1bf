import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import * as leftOut from '#adapters/aws/sdk-without-event-streams.ts';
import {
  EventStreamSerde,
  EventStreamsLeftOutError,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '#adapters/aws/sdk-without-event-streams.ts';

describe('the event-stream module the Lambda bundles use in place of the SDK one', () => {
  it('exports every name the protocols take from the real module by dynamic import', () => {
    // A dynamic import is not checked by esbuild: a name missing here would be undefined in Lambda.
    const smithyCore = dirname(createRequire(import.meta.url).resolve('@smithy/core'));
    const protocol = readFileSync(
      join(smithyCore, '..', 'dist-es', 'submodules', 'protocols', 'HttpProtocol.js'),
      'utf8',
    );
    const loads = [
      ...protocol.matchAll(/const \{([^}]+)\} = await import\("@smithy\/core\/event-streams"\)/g),
    ];
    expect(loads.length).toBeGreaterThan(0);
    for (const [, names = ''] of loads) {
      for (const name of names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)) {
        expect(Object.keys(leftOut)).toContain(name);
      }
    }
  });

  it('lets an S3 client be built and sign an ordinary request with its marshaller', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
      eventStreamSerdeProvider,
      endpoint: 'http://127.0.0.1:9',
      maxAttempts: 1,
    });
    // Serialised and signed, then refused by the closed port: no event-stream code on the way.
    await expect(
      client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' })),
    ).rejects.not.toBeInstanceOf(EventStreamsLeftOutError);
    client.destroy();
  });

  it('builds the client config a marshaller that refuses every use, loudly', () => {
    const config = resolveEventStreamSerdeConfig({ eventStreamSerdeProvider });
    const marshaller = config.eventStreamMarshaller as ReturnType<typeof eventStreamSerdeProvider>;
    expect(() => marshaller.serialize({}, {})).toThrow(EventStreamsLeftOutError);
    expect(() => marshaller.deserialize({}, {})).toThrow(/leaves out the AWS SDK event-stream codec/);
  });

  it('refuses to build the serde an operation with an event stream would load', () => {
    expect(() => new EventStreamSerde({})).toThrow(EventStreamsLeftOutError);
  });
});
