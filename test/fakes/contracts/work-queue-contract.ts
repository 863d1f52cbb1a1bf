/**
 * The behaviour every `WorkQueue` must have, run against `SqsWorkQueue` (on local-aws-sqs)
 * and the in-memory fake. `drain` returns what a consumer would receive, in send order.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#domain/errors.ts';
import type { WorkItem, WorkMessage } from '#domain/model/work.ts';
import type { WorkQueue } from '#ports/work-queue.ts';

export interface QueueUnderTest {
  readonly queue: WorkQueue;
  drain(): Promise<WorkMessage[]>;
}

export type WorkQueueFactory = (options: { maxMessageBytes: number }) => Promise<QueueUnderTest>;

const LIMIT = 16 * 1024;

export function membership(index: number, padding = 0): WorkItem {
  return {
    type: 'albumMembership',
    zone: { database: 'private', zoneName: 'PrimarySync' },
    assetRecordName: `ASSET-${String(index).padStart(4, '0')}-${'x'.repeat(padding)}`,
    albumRecordName: 'ALBUM-1',
    present: true,
  };
}

export function workMessage(items: WorkItem[], runId = 'run-1'): WorkMessage {
  return { v: 1, runId, issuedAt: 1_700_000_000_000, items };
}

function itemNames(messages: readonly WorkMessage[]): string[] {
  return messages.flatMap((m) =>
    m.items.map((i) => (i.type === 'albumMembership' ? i.assetRecordName : i.type)),
  );
}

export function describeWorkQueueContract(name: string, create: WorkQueueFactory): void {
  describe(`${name} (WorkQueue contract)`, () => {
    it('delivers a message that fits unchanged', async () => {
      const { queue, drain } = await create({ maxMessageBytes: LIMIT });
      const message = workMessage([membership(1), membership(2)]);
      expect(await queue.enqueue([message])).toEqual({ requested: 1, sent: 1 });
      expect(await drain()).toEqual([message]);
    });

    it('splits a message over the size limit into pieces that keep item order and run', async () => {
      const { queue, drain } = await create({ maxMessageBytes: LIMIT });
      const items = Array.from({ length: 40 }, (_, i) => membership(i, 1000));
      const receipt = await queue.enqueue([workMessage(items, 'run-big')]);
      expect(receipt.sent).toBeGreaterThan(1);
      const received = await drain();
      expect(received).toHaveLength(receipt.sent);
      for (const piece of received) {
        expect(Buffer.byteLength(JSON.stringify(piece))).toBeLessThanOrEqual(LIMIT);
        expect(piece).toMatchObject({ runId: 'run-big', issuedAt: 1_700_000_000_000 });
      }
      expect(itemNames(received)).toEqual(itemNames([workMessage(items)]));
    });

    it('delivers more messages than one batch holds', async () => {
      const { queue, drain } = await create({ maxMessageBytes: LIMIT });
      const messages = Array.from({ length: 23 }, (_, i) => workMessage([membership(i)], `run-${i}`));
      expect(await queue.enqueue(messages)).toEqual({ requested: 23, sent: 23 });
      const received = await drain();
      expect(received.map((m) => m.runId).sort()).toEqual(messages.map((m) => m.runId).sort());
    });

    it('refuses an item too large to send alone, and sends nothing of that call', async () => {
      const { queue, drain } = await create({ maxMessageBytes: LIMIT });
      const call = queue.enqueue([workMessage([membership(1)]), workMessage([membership(2, LIMIT)])]);
      await expect(call).rejects.toBeInstanceOf(InvalidInputError);
      expect(await drain()).toEqual([]);
    });

    it('accepts an empty enqueue', async () => {
      const { queue, drain } = await create({ maxMessageBytes: LIMIT });
      expect(await queue.enqueue([])).toEqual({ requested: 0, sent: 0 });
      expect(await drain()).toEqual([]);
    });
  });
}
