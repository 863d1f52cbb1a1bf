/**
 * The account document `accountLogin` and `validate` return (docs/protocol/sign-in.md#accountlogin), parsed leniently at the
 * edges (extra fields pass) and strictly at the core (dsid and the CloudKit URL are required).
 */

import { UnexpectedResponseError } from '#domain/errors.ts';
import * as z from '#shared/zod.ts';
import { accountCondition, wrongRegion } from './account-conditions.ts';

const AccountDocumentSchema = z.looseObject({
  dsInfo: z.looseObject({
    dsid: z.pipe(z.union([z.string(), z.number()]), z.transform(String)),
    hsaVersion: z.optional(z.number()),
    hasICloudQualifyingDevice: z.optional(z.boolean()),
    isWebAccessAllowed: z.optional(z.boolean()),
    iCDPEnabled: z.optional(z.boolean()),
    appleId: z.optional(z.string()),
  }),
  iCDPEnabled: z.optional(z.boolean()),
  hsaChallengeRequired: z.optional(z.boolean()),
  hsaTrustedBrowser: z.optional(z.boolean()),
  domainToUse: z.nullish(z.string()),
  termsUpdateNeeded: z.optional(z.boolean()),
  webservices: z.optional(
    z.looseObject({
      ckdatabasews: z.optional(z.looseObject({ url: z.url(), status: z.optional(z.string()) })),
      sharedstreams: z.optional(z.looseObject({ url: z.url(), status: z.optional(z.string()) })),
    }),
  ),
});

export interface AccountInfo {
  readonly dsid: string;
  /** `webservices.ckdatabasews.url`, verbatim (keeps `:443`). */
  readonly ckdatabasewsUrl: string;
  /** `webservices.sharedstreams.url` (legacy Shared Albums), absent when the account lists none. */
  readonly sharedstreamsUrl?: string;
  /** A second factor is still needed for this session (docs/protocol/sign-in.md#accountlogin, kei's rule). */
  readonly requiresTwoFactor: boolean;
  readonly hsaVersion: number;
}

/**
 * Reads an account document and raises the account conditions it reveals (wrong region, ADP,
 * web access off, terms, legacy two-step). Conditions come first: a China account has no usable
 * CloudKit URL on the international service.
 */
export function readAccountDocument(body: unknown): AccountInfo {
  const domainToUse =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['domainToUse'] : undefined;
  if (typeof domainToUse === 'string' && domainToUse !== '') throw wrongRegion(domainToUse);
  const parsed = AccountDocumentSchema.safeParse(body);
  if (!parsed.success) {
    throw new UnexpectedResponseError(
      `accountLogin answered without ${parsed.error.issues[0]?.path.join('.') ?? 'its core fields'}`,
    );
  }
  const doc = parsed.data;
  if (doc.termsUpdateNeeded === true) throw accountCondition('terms-not-accepted');
  if (doc.iCDPEnabled === true || doc.dsInfo.iCDPEnabled === true)
    throw accountCondition('advanced-data-protection');
  if (doc.dsInfo.isWebAccessAllowed === false) throw accountCondition('web-access-off');
  const hsaVersion = doc.dsInfo.hsaVersion ?? 0;
  // Absent flags (accounts without two-factor, docs/protocol/sign-in.md#accountlogin) mean "no challenge".
  const challenged = doc.hsaChallengeRequired === true || doc.hsaTrustedBrowser === false;
  if (hsaVersion === 1 && challenged) throw accountCondition('legacy-two-step');
  const url = doc.webservices?.ckdatabasews?.url;
  if (!url) throw new UnexpectedResponseError('accountLogin answered without webservices.ckdatabasews.url');
  return {
    dsid: doc.dsInfo.dsid,
    ckdatabasewsUrl: url,
    ...(doc.webservices?.sharedstreams?.url ? { sharedstreamsUrl: doc.webservices.sharedstreams.url } : {}),
    requiresTwoFactor: hsaVersion === 2 && challenged,
    hsaVersion,
  };
}
