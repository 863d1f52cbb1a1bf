/**
 * Cuts work messages to fit a queue's message size limit. A message that serialises too large
 * is split into halves of its items (order kept, same `runId`/`issuedAt`) until every piece
 * fits; an item that cannot fit alone is an input error. Each piece gets a deterministic id
 * (SHA-256 of its body), so the same work always produces the same ids.
 */
import { createHash } from 'node:crypto';
import type { WorkMessage } from '#domain/model/work.ts';
import { InvalidInputError } from '../../domain/errors.ts';
import { encodeWorkMessage } from './work-message-codec.ts';

/** SQS's classic limit (AWS raised it to 1 MiB in 2025; older regions and tools assume 256 KiB). */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface SerialisedWork {
  /** Hex SHA-256 of `body`: the message's identity for deduplication and tracing. */
  readonly workId: string;
  readonly body: string;
  readonly bytes: number;
  readonly items: number;
}

function serialise(message: WorkMessage): SerialisedWork {
  const body = encodeWorkMessage(message);
  return {
    workId: createHash('sha256').update(body).digest('hex'),
    body,
    bytes: Buffer.byteLength(body, 'utf8'),
    items: message.items.length,
  };
}

export function splitWorkMessage(message: WorkMessage, maxBytes: number): SerialisedWork[] {
  const whole = serialise(message);
  if (whole.bytes <= maxBytes) return [whole];
  if (message.items.length <= 1) {
    throw new InvalidInputError(
      `one work item serialises to ${whole.bytes} bytes, over the ${maxBytes} byte limit`,
    );
  }
  const middle = Math.ceil(message.items.length / 2);
  return [
    ...splitWorkMessage({ ...message, items: message.items.slice(0, middle) }, maxBytes),
    ...splitWorkMessage({ ...message, items: message.items.slice(middle) }, maxBytes),
  ];
}
