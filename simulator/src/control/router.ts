/**
 * The simulator-only control API under `/__sim` (S116 in docs/protocol/simulator-contract.md#control-plane; catalogue in simulator/README.md).
 * JSON in, JSON out; bodies are parsed strictly (unknown keys are a 400). Control calls are not
 * counted in `/stats` and not logged in `/requests`.
 */
import * as z from 'zod';
import { ckdatabasewsUrl } from '../auth/account-document.ts';
import type { AuthContext } from '../auth/context.ts';
import { serializeSetCookie } from '../auth/cookies.ts';
import { securityKeyOf } from '../auth/security-key.ts';
import type { AuthSettings } from '../auth/settings.ts';
import { mintTrustedSession } from '../auth/setup.ts';
import type { SimClock } from '../clock.ts';
import { FaultSpecSchema } from '../faults/fault-spec.ts';
import type { FaultRegistry } from '../faults/registry.ts';
import { APPLE_HOSTS } from '../hosts.ts';
import type { RequestStats } from '../stats.ts';
import type { SimReply, SimRequest } from '../types.ts';
import { json } from '../types.ts';
import {
  AccountOnlySchema,
  changePassword,
  describeAccount,
  describeSteps,
  FlagsSchema,
  movePartition,
  PartitionMoveSchema,
  PasswordChangeSchema,
  resolveAccount,
  setFlags,
} from './accounts-control.ts';
import type { RequestLog } from './request-log.ts';

export interface ControlDeps {
  readonly baseUrl: () => string;
  readonly clock: SimClock;
  readonly stats: RequestStats;
  readonly faults: FaultRegistry;
  readonly log: RequestLog;
  readonly auth: AuthContext;
  /** The seeded account (owner of the library). */
  readonly ownerAppleId: string;
  /** `/library`, `/mutate`, `/quirks` (the library part); undefined when it does not handle the path. */
  readonly library: (req: SimRequest) => SimReply | undefined | Promise<SimReply | undefined>;
}

const ClockSchema = z.union([
  z.strictObject({ advanceMs: z.number().nonnegative() }),
  z.strictObject({ advanceDays: z.number().nonnegative() }),
]);
const SessionSchema = z.strictObject({ appleId: z.string().optional() });
const NextCodeSchema = z.strictObject({ code: z.string().regex(/^\d{6}$/) });
const SettingsSchema = z.strictObject({
  strictIdmsaHeaders: z.boolean().optional(),
  cassetteMode: z.boolean().optional(),
  srpLimit: z.number().int().nonnegative().optional(),
  srpWindowMs: z.number().int().positive().optional(),
  srpBlockExtends: z.boolean().optional(),
  maxWrongCodes: z.number().int().positive().optional(),
  maxPushes: z.number().int().positive().optional(),
  codeWindowMs: z.number().int().positive().optional(),
  pushDedupMs: z.number().int().nonnegative().optional(),
  autoPushOnSignin: z.boolean().optional(),
  pcsPollsBeforeApproval: z.number().int().nonnegative().optional(),
  tokenGraceMs: z.number().int().nonnegative().optional(),
});

const badRequest = (error: string): SimReply => json({ error }, 400);

/** The 400 naming every problem of a control body. */
const refusal = (error: z.ZodError): SimReply =>
  badRequest(error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));

function parse<T>(schema: z.ZodType<T>, body: unknown): T | SimReply {
  const r = schema.safeParse(body ?? {});
  return r.success ? r.data : refusal(r.error);
}

const isReply = (v: unknown): v is SimReply =>
  typeof v === 'object' &&
  v !== null &&
  'status' in v &&
  'body' in v &&
  typeof (v as SimReply).status === 'number';

export function createControlRouter(deps: ControlDeps) {
  const { auth } = deps;

  const session = (req: SimRequest): SimReply => {
    const input = parse(SessionSchema, req.json);
    if (isReply(input)) return input;
    const account = resolveAccount(auth, input.appleId, deps.ownerAppleId);
    if (isReply(account)) return account;
    const minted = mintTrustedSession(auth, account);
    return json({
      cookie: minted.cookies.map((c) => `${c.name}=${c.value}`).join('; '),
      cookies: minted.cookies.map(serializeSetCookie),
      dsid: account.dsid,
      appleId: account.appleId,
      ckdatabasewsUrl: ckdatabasewsUrl(account.partition),
      trustToken: minted.trustToken,
      sessionToken: minted.sessionToken,
      accountCountry: account.countryCode,
    });
  };

  const settings = (req: SimRequest): SimReply => {
    if (req.method === 'POST') {
      const input = parse(SettingsSchema, req.json);
      if (isReply(input)) return input;
      const { tokenGraceMs, ...rest } = input;
      for (const [name, value] of Object.entries(rest)) {
        if (value !== undefined) (auth.settings as unknown as Record<string, unknown>)[name] = value;
      }
      if (tokenGraceMs !== undefined) auth.store.lifetimes.tokenGraceMs = tokenGraceMs;
    }
    return json({ ...(auth.settings as AuthSettings), ...auth.store.lifetimes });
  };

  const withAccount = <T extends { appleId?: string | undefined }>(
    schema: z.ZodType<T>,
    req: SimRequest,
    act: (account: NonNullable<ReturnType<typeof auth.store.account>>, input: T) => SimReply,
  ): SimReply => {
    const input = parse(schema, req.json);
    if (isReply(input)) return input;
    const account = resolveAccount(auth, input.appleId, deps.ownerAppleId);
    return isReply(account) ? account : act(account, input);
  };

  return async (req: SimRequest): Promise<SimReply> => {
    const path = req.path.replace(/\/+$/, '') || '/';
    switch (`${req.method} ${path}`) {
      case 'GET /': {
        const baseUrl = deps.baseUrl();
        return json({
          baseUrl,
          hosts: { ...APPLE_HOSTS, ckdatabasews: 'pNN-ckdatabasews.icloud.com' },
          rewrite: `https://<host>/<p> -> ${baseUrl}/<host>/<p>`,
        });
      }
      case 'POST /session':
        return session(req);
      case 'GET /stats':
        return json(deps.stats.snapshot());
      case 'POST /stats/reset':
        deps.stats.reset();
        return json(deps.stats.snapshot());
      case 'GET /2fa/code': {
        const code = auth.idmsa.lastCode(req.query.get('appleId') ?? undefined);
        return code
          ? json({ code: code.code, appleId: code.appleId, via: code.via, at: code.at })
          : json({ error: 'no code pushed yet' }, 404);
      }
      case 'POST /2fa/next-code': {
        const input = parse(NextCodeSchema, req.json);
        if (isReply(input)) return input;
        auth.idmsa.setNextCode(input.code);
        return json({ next: input.code });
      }
      case 'GET /clock':
        return json({ now: deps.clock.now(), offsetMs: deps.clock.offsetMs });
      case 'POST /clock': {
        const input = parse(ClockSchema, req.json);
        if (isReply(input)) return input;
        deps.clock.advance('advanceMs' in input ? input.advanceMs : input.advanceDays * 86_400_000);
        auth.store.changed();
        return json({ now: deps.clock.now(), offsetMs: deps.clock.offsetMs });
      }
      case 'GET /faults':
        return json({ faults: deps.faults.list() });
      case 'POST /faults': {
        // Not `parse` + `isReply`: a fault with both `status` and `body` has the very shape of a
        // reply, and was answered as one (a 500) instead of being registered.
        const input = FaultSpecSchema.safeParse(req.json ?? {});
        if (!input.success) return refusal(input.error);
        return json(deps.faults.add(input.data), 201);
      }
      case 'DELETE /faults':
        deps.faults.clear();
        return json({ faults: [] });
      case 'GET /accounts':
        return json({ accounts: auth.store.accounts().map(describeAccount) });
      case 'POST /accounts/flags':
        return withAccount(FlagsSchema, req, (a, input) => setFlags(auth, a, input));
      case 'POST /accounts/password-change':
        return withAccount(PasswordChangeSchema, req, (a, input) =>
          changePassword(auth, a, input.newPassword),
        );
      case 'POST /accounts/sign-out-all':
        return withAccount(AccountOnlySchema, req, (a) => changePassword(auth, a, undefined));
      case 'POST /partition-move':
        return withAccount(PartitionMoveSchema, req, (a, input) => movePartition(auth, a, input.partition));
      case 'GET /accounts/steps': {
        const account = resolveAccount(auth, req.query.get('appleId') ?? undefined, deps.ownerAppleId);
        if (isReply(account)) return account;
        return json(describeSteps(account.appleId, auth.idmsa.steps(account.appleId)));
      }
      case 'GET /accounts/security-key': {
        const account = resolveAccount(auth, req.query.get('appleId') ?? undefined, deps.ownerAppleId);
        if (isReply(account)) return account;
        const key = securityKeyOf(auth, account);
        return json({
          appleId: account.appleId,
          rpId: 'apple.com',
          credentialId: key.credentialId,
          privateKeyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        });
      }
      case 'DELETE /accounts/steps':
        auth.idmsa.clearSteps();
        return json({ cleared: true });
      case 'POST /throttle/reset':
        auth.idmsa.resetThrottle();
        return json({ reset: true });
      case 'GET /requests': {
        const limit = Number(req.query.get('limit') ?? '200');
        return json({ requests: deps.log.recent(Number.isFinite(limit) && limit > 0 ? limit : 200) });
      }
      case 'DELETE /requests':
        deps.log.clear();
        return json({ requests: [] });
      case 'GET /settings':
      case 'POST /settings':
        return settings(req);
      default: {
        const delegated = await deps.library(req);
        return delegated ?? json({ error: `no control endpoint ${req.method} ${path}` }, 404);
      }
    }
  };
}
