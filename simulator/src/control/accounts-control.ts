/** Control endpoints about accounts: flags, password change, sign-out-all, partition move. */
import * as z from 'zod';
import type { AccountRecord } from '../accounts/account.ts';
import { srpRecordFor } from '../accounts/account.ts';
import type { AuthContext } from '../auth/context.ts';
import type { SignInStep, SignInStepName } from '../auth/idmsa-state.ts';
import type { SimReply } from '../types.ts';
import { json } from '../types.ts';

const AccountRef = { appleId: z.string().optional() };

export const FlagsSchema = z.strictObject({
  ...AccountRef,
  hsaVersion: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  hasICloudQualifyingDevice: z.boolean().optional(),
  isWebAccessAllowed: z.boolean().optional(),
  iCDPEnabled: z.boolean().optional(),
  termsUpdateNeeded: z.boolean().optional(),
  domainToUse: z.string().nullable().optional(),
  fido: z.boolean().optional(),
  needsRepair: z.boolean().optional(),
  authFlow: z.enum(['2025', '2026']).optional(),
  escrow: z.enum(['EDP', 'PDP']).nullable().optional(),
  escrowEnforced: z.boolean().optional(),
  codeAnswerWithoutSessionToken: z.boolean().optional(),
  codeAnswerTrustToken: z.boolean().optional(),
  codeAnswerStatus: z.union([z.literal(409), z.literal(412)]).optional(),
  wrongCodeStatus: z.union([z.literal(400), z.literal(412)]).optional(),
  pushTriggerBody: z.boolean().optional(),
  trustedDeviceGetStatus: z.union([z.literal(200), z.literal(405)]).optional(),
  noTrustedDevices: z.boolean().optional(),
  bridgeRouted: z.boolean().optional(),
  phoneNonFTEU: z.boolean().optional(),
  authJsonShape: z.enum(['top-level', 'envelope', 'none']).optional(),
  rejectIdmsaProfileOnVerify: z.boolean().optional(),
  strictIdmsaHeaders: z.boolean().nullable().optional(),
  sharedStreams: z.boolean().optional(),
  protocol: z.enum(['s2k', 's2k_fo']).optional(),
  iterations: z.number().int().positive().max(1_000_000).optional(),
});

export const PasswordChangeSchema = z.strictObject({
  ...AccountRef,
  newPassword: z.string().min(1).optional(),
});
export const AccountOnlySchema = z.strictObject(AccountRef);
export const PartitionMoveSchema = z.strictObject({
  ...AccountRef,
  partition: z.number().int().min(1).max(999).optional(),
});

/** What `/accounts` shows of an account (the seeded password is public test data). */
export const describeAccount = (a: AccountRecord) => ({
  appleId: a.appleId,
  password: a.password,
  dsid: a.dsid,
  partition: a.partition,
  protocol: a.srp.protocol,
  flags: a.flags,
});

/**
 * The sign-in steps of one account in order (S146), with a summary of the 2026 steps: whether the
 * PUT trigger, a 409-accepted code, escrow, trust and a key assertion happened (2xx or the 409).
 */
export function describeSteps(appleId: string, steps: readonly SignInStep[]) {
  const done = (step: SignInStepName, ok: (status: number) => boolean = (s) => s >= 200 && s < 300) =>
    steps.some((s) => s.step === step && ok(s.status));
  return {
    appleId,
    performed: {
      pushTrigger: done('push-trigger'),
      codeAccepted409: done('code-accepted', (s) => s === 409 || s === 412),
      escrow: done('escrow-complete'),
      trust: done('trust'),
      keyAssertion: done('key-assertion', (s) => s === 409),
    },
    steps,
  };
}

export function resolveAccount(
  ctx: AuthContext,
  appleId: string | undefined,
  fallback: string,
): AccountRecord | SimReply {
  const account = ctx.store.account(appleId ?? fallback);
  return account ?? json({ error: `no account ${appleId}` }, 404);
}

export function setFlags(
  ctx: AuthContext,
  account: AccountRecord,
  input: z.infer<typeof FlagsSchema>,
): SimReply {
  const { appleId: _ignored, protocol, iterations, ...flags } = input;
  for (const [name, value] of Object.entries(flags)) {
    if (value !== undefined) (account.flags as unknown as Record<string, unknown>)[name] = value;
  }
  if (protocol !== undefined || iterations !== undefined) {
    account.srp = srpRecordFor(
      account.password,
      protocol ?? account.srp.protocol,
      iterations ?? account.srp.iterations,
    );
  }
  ctx.store.changed();
  return json(describeAccount(account));
}

export function changePassword(
  ctx: AuthContext,
  account: AccountRecord,
  newPassword: string | undefined,
): SimReply {
  if (newPassword !== undefined) {
    account.password = newPassword;
    account.srp = srpRecordFor(newPassword, account.srp.protocol, account.srp.iterations);
  }
  ctx.store.revokeAll(account);
  return json(describeAccount(account));
}

export function movePartition(
  ctx: AuthContext,
  account: AccountRecord,
  partition: number | undefined,
): SimReply {
  const from = account.partition;
  account.partition = partition ?? (from % 99) + 1;
  ctx.store.changed();
  return json({ appleId: account.appleId, from, to: account.partition });
}
