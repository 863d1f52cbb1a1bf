/**
 * SQS accepts in a message body only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF and refuses a body with any other character (InvalidMessageContents; the
 * SendMessage / SendMessageBatch reference). JSON.stringify escapes control characters and lone
 * surrogates but passes the noncharacters U+FFFE and U+FFFF through, and a photo's name, title,
 * caption or keywords may hold them (APFS allows any character but NUL and '/'): the work
 * codec escapes them, so the page's enqueue goes through and the worker reads the names intact.
 */
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsWorkQueue } from '#adapters/aws/sqs-work-queue.ts';
import { encodeWorkMessage, parseWorkMessage } from '#adapters/aws/work-message-codec.ts';
import { splitWorkMessage } from '#adapters/aws/work-message-split.ts';
import { WORK_MESSAGE_VERSION, type WorkMessage } from '#domain/model/work.ts';
import { sampleSharedAlbum } from '#test/fakes/shared-album-samples.ts';
import { photoAsset } from '#test/handlers/handler-doubles.ts';

/** What SQS accepts in a body (W3C XML Char). */
const SQS_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const asset = {
  ...photoAsset('x', 10),
  fileName: 'Scan\uFFFF 2019\uFFFE.JPG',
  description: { title: 'T\uFFFF', caption: '\uFFFEc', keywords: ['k\uFFFF'] },
};
const message: WorkMessage = {
  v: WORK_MESSAGE_VERSION,
  runId: 'r',
  issuedAt: 0,
  items: [
    { type: 'asset', asset },
    { type: 'sharedAlbum', album: sampleSharedAlbum('G1', 'Trip \uFFFF') },
  ],
};

/** A queue on a client that records the bodies it is asked to send and stores them all. */
function recordingQueue(): { queue: SqsWorkQueue; bodies: string[] } {
  const bodies: string[] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      for (const entry of entries) bodies.push(entry.MessageBody ?? '');
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
  } as unknown as SQSClient;
  return { queue: new SqsWorkQueue({ client, queueUrl: 'https://sqs.test/123/work' }), bodies };
}

describe('a work message whose names hold U+FFFE or U+FFFF', () => {
  it('is sent with only characters SQS accepts, and read back with the names intact', async () => {
    const { queue, bodies } = recordingQueue();

    await queue.enqueue([message]);

    expect(bodies).toHaveLength(1);
    expect(bodies.filter((body) => !SQS_BODY.test(body))).toEqual([]);
    expect(parseWorkMessage(bodies[0] ?? '')).toEqual(message);
  });

  it('is measured for the size limit in its escaped form', () => {
    const body = encodeWorkMessage(message);
    const bytes = Buffer.byteLength(body, 'utf8');

    expect(splitWorkMessage(message, bytes)).toEqual([expect.objectContaining({ body, bytes })]);
    // One byte less and it no longer fits whole: the escapes (6 bytes, not 3) are counted.
    expect(splitWorkMessage(message, bytes - 1)).toHaveLength(2);
  });
});
