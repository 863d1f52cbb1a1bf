/**
 * A first sync's local S3 starts with the run: detection's first page writes the catalog journal,
 * and the s3rver child takes a quarter of a second or more to start, which the first page used to
 * wait out. A data dir that already has a local S3 (every later run, idle ones included) starts it
 * only when the run first needs it. The same for its SQS server and queues, which the first enqueue
 * waited for after that page's journal; the run counts SQS as started only once it uses it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_RESOURCES, openLocalAws } from '#compose/local-aws-stack.ts';

const dirs: string[] = [];
const freshDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'icloud-s3-first-s3-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('openLocalAws', () => {
  it('starts the local S3 at once for a data dir that never had one, and on first use after that', async () => {
    const dataDir = await freshDir();
    const first = await openLocalAws({ dataDir, startNewS3AtOnce: true });
    try {
      expect(first.s3Started()).toBe(true);
      await first.s3();
    } finally {
      await first.stop();
    }
    const again = await openLocalAws({ dataDir, startNewS3AtOnce: true });
    try {
      expect(again.s3Started()).toBe(false);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('starts the SQS server of a data dir that never had a local S3, and its queues, before the run asks', async () => {
    const createQueues: number[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: ClientRequest };
      if (request.getHeader('x-amz-target') === 'AmazonSQS.CreateQueue') createQueues.push(Date.now());
    };
    subscribe('http.client.request.start', onRequest);
    const stack = await openLocalAws({
      dataDir: await freshDir(),
      startNewS3AtOnce: true,
      startNewSqsAtOnce: true,
    });
    try {
      for (let waited = 0; createQueues.length < 2 && waited < 5_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(createQueues).toHaveLength(2);
      // Nothing asked for it yet: a run that enqueues nothing drains and parks nothing.
      expect(stack.sqsStarted()).toBe(false);
      const sqs = await stack.sqs();
      expect(stack.sqsStarted()).toBe(true);
      expect(sqs.queues.queueUrl).toContain(LOCAL_RESOURCES.queue);
      expect(createQueues).toHaveLength(2);
    } finally {
      unsubscribe('http.client.request.start', onRequest);
      await stack.stop();
    }
  }, 60_000);

  it('leaves the local S3 unstarted when not asked to start a new one', async () => {
    const stack = await openLocalAws({ dataDir: await freshDir() });
    try {
      expect(stack.s3Started()).toBe(false);
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it('opens its local S3 with the bucket already there: no HeadBucket or CreateBucket before the first write', async () => {
    const s3Requests: string[] = [];
    const onRequest = (message: unknown) => {
      const { request } = message as { request: ClientRequest };
      if (String(request.getHeader('authorization') ?? '').includes('/s3/aws4_request'))
        s3Requests.push(`${request.method} ${request.path}`);
    };
    const dataDir = await freshDir();
    subscribe('http.client.request.start', onRequest);
    try {
      for (let run = 0; run < 2; run++) {
        const stack = await openLocalAws({ dataDir, startNewS3AtOnce: true });
        try {
          const { client } = await stack.s3();
          expect(s3Requests).toEqual([]);
          const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
          await client.send(new HeadBucketCommand({ Bucket: LOCAL_RESOURCES.bucket }));
          s3Requests.splice(0);
        } finally {
          await stack.stop();
        }
      }
    } finally {
      unsubscribe('http.client.request.start', onRequest);
    }
  }, 60_000);
});
