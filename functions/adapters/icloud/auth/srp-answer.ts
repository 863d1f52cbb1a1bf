/**
 * The SRP challenge Apple answers to `signin/init` and, with the same shape, to `escrow/init`
 * (docs/protocol/sign-in.md), and the client proof computed from it.
 */
import { UnexpectedResponseError } from '#domain/errors.ts';
import type { Secret } from '#shared/redact.ts';
import * as z from '#shared/zod.ts';
import { bytesToBigInt, computeClientProof, type SrpClientEphemeral, type SrpProof } from './srp.ts';

const SrpAnswerSchema = z.looseObject({
  salt: z.string().check(z.minLength(1)),
  b: z.string().check(z.minLength(1)),
  c: z.unknown(),
  iteration: z.int().check(z.positive()),
  protocol: z.enum(['s2k', 's2k_fo']),
});

export type SrpAnswer = z.infer<typeof SrpAnswerSchema>;

/** Parses an init answer; `step` names the request in the error. */
export function readSrpAnswer(body: unknown, step: string): SrpAnswer {
  const parsed = SrpAnswerSchema.safeParse(body);
  if (!parsed.success) throw new UnexpectedResponseError(`${step} answered without an SRP challenge`);
  return parsed.data;
}

/** M1, M2 and K for `answer`, proving `password` under `accountName` (empty for escrow). */
export function proveSrp(
  ephemeral: SrpClientEphemeral,
  answer: SrpAnswer,
  accountName: string,
  password: Secret<string>,
): SrpProof {
  return computeClientProof(ephemeral, {
    accountName,
    password: password.reveal(),
    protocol: answer.protocol,
    salt: Buffer.from(answer.salt, 'base64'),
    iterations: answer.iteration,
    B: bytesToBigInt(Buffer.from(answer.b, 'base64')),
  });
}
