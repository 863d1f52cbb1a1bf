/**
 * `icloud-s3 login`: the only interactive sign-in. Asks for the Apple ID, the password (hidden),
 * how to receive the two-factor code and the code; stores the session. Runs non-interactively with
 * `--apple-id`, `ICLOUD_PASSWORD` or `--password-file`, `--sms <id>`, and the code on stdin.
 */
import { readFile, stat } from 'node:fs/promises';
// What the command does is imported when it runs: `login --help` loads no AWS SDK, iCloud
// sign-in or prompt library (issue 12).
import { Command, Option } from 'commander';
import type { PasswordChange } from '#adapters/icloud/session/login-session.ts';
import { FileSessionStore } from '#adapters/local/file-session-store.ts';
import type { SessionStore } from '#ports/session-store.ts';
import { DEFAULT_STACK_NAME } from '#shared/env-names.ts';
import { errorMessage, Secret } from '#shared/redact.ts';
import type { CliContext } from '../context.ts';
import { UsageError } from '../io/exit-codes.ts';
import { integerIn } from '../io/option-parsers.ts';
import type { Prompter } from '../io/prompts.ts';
import type { JsonResult, ResultStatus } from '../io/result-status.ts';
import { traceOption } from '../io/trace-option.ts';

interface LoginOptions {
  readonly appleId?: string;
  readonly passwordFile?: string;
  readonly sms?: number;
  readonly rememberPassword?: boolean;
  readonly force?: boolean;
}

export function loginCommand(): Command {
  return new Command('login')
    .description('sign in to iCloud (password and two-factor code) and store the session')
    .option('--apple-id <email>', 'Apple ID (asked when omitted)')
    .option('--password-file <path>', 'read the password from this file (else ICLOUD_PASSWORD, else asked)')
    .addOption(
      new Option('--sms <phone-id>', 'receive the code by SMS on this trusted number id').argParser(
        integerIn(0, 9999),
      ),
    )
    .option(
      '--remember-password',
      'store the password in the session file so unattended runs can sign in again when cookies expire',
    )
    .option('--force', 'sign in again even if the stored session still works')
    .option(
      '--aws',
      "store the session in the deployed stack's Secrets Manager secret (AWS credentials from the usual chain)",
    )
    .option('--stack <name>', `with --aws: the stack name (default ${DEFAULT_STACK_NAME})`)
    .option('--secret-id <id>', 'with --aws: the secret name or ARN, instead of looking it up in the stack')
    .option('--region <region>', "with --aws: the stack's AWS region (else AWS_REGION or the profile's)")
    .option('--profile <name>', 'with --aws: the AWS profile whose credentials to use (else AWS_PROFILE)')
    .addOption(traceOption())
    .addHelpText(
      'after',
      `
Examples:
  npx icloud-s3 login                                sign in and keep the session on this machine
  npx icloud-s3 login --aws --stack IcloudS3 --remember-password
                                                     sign in for the deployed pipeline
  ICLOUD_PASSWORD=... npx icloud-s3 login --apple-id me@example.com
                                                     without a terminal, answers are lines on stdin: the code
                                                     showing on your device, or first an empty line to have
                                                     Apple send one
  npx icloud-s3 login --force --trace login-trace.json
                                                     sign in again and keep a redacted transcript for a bug report

Exit codes: 0 signed in, 1 failure, 2 usage, 3 Apple wants a new sign-in (run login again),
4 Apple refused the account (the message says why).`,
    )
    .action(async (options: LoginOptions & AwsTarget, command: Command) => {
      const { cliContext } = await import('../context.ts');
      const ctx = cliContext(command, { demo: false });
      await runLogin(options.aws ? { ...ctx, store: await secretStore(options) } : ctx, options);
    });
}

interface AwsTarget {
  readonly aws?: boolean;
  readonly stack?: string;
  readonly secretId?: string;
  readonly region?: string;
  readonly profile?: string;
}

/** The deployed stack's session secret (its id from the stack's outputs unless given). */
async function secretStore(target: AwsTarget): Promise<SessionStore> {
  const { deployedSessionStore, describeStack } = await import('#compose/deployed-stack.ts');
  const account = { region: target.region, profile: target.profile };
  const secretId = target.secretId ?? (await describeStack(target.stack, account)).sessionSecretId;
  return deployedSessionStore(secretId, account);
}

async function readPassword(options: LoginOptions, prompter: Prompter | undefined): Promise<Secret<string>> {
  if (options.passwordFile) {
    const mode = (await stat(options.passwordFile)).mode & 0o077;
    const text = (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    if (!text) throw new UsageError(`${options.passwordFile} is empty`);
    if (mode !== 0)
      process.stderr.write(`! ${options.passwordFile} is readable by other users; chmod 600 it\n`);
    return new Secret(text);
  }
  const fromEnv = process.env['ICLOUD_PASSWORD'];
  if (fromEnv) {
    // Children (and crash dumps) need not see it.
    delete process.env['ICLOUD_PASSWORD'];
    return new Secret(fromEnv);
  }
  if (!prompter) throw new UsageError('no password: set ICLOUD_PASSWORD or pass --password-file');
  return new Secret(await prompter.secret('Apple ID password'));
}

/**
 * Without `--apple-id`, the stored session's Apple ID: a person is asked with it as the answer
 * Enter gives (and may type another account), a script (`--json`, no terminal) gets it, so
 * `login` checks that session or, with `--force`, signs it in again.
 */
async function askOrStoredAppleId(ctx: CliContext, terminal: Prompter | undefined): Promise<string> {
  const { storedAppleId } = await import('#adapters/icloud/session/login-session.ts');
  const stored = await storedAppleId(ctx.store);
  const appleId = terminal
    ? await terminal.text('Apple ID (email)', stored === undefined ? {} : { default: stored })
    : stored;
  if (appleId) return appleId;
  throw new UsageError('no Apple ID: pass --apple-id', {
    hint: `Pass --apple-id you@example.com (no session is stored at ${ctx.store.describe()} to take it from).`,
  });
}

export async function runLogin(ctx: CliContext, options: LoginOptions): Promise<void> {
  const [{ beginLogin }, { StdinPrompter, TerminalPrompter }, { chooseDelivery, signInWithCode }] =
    await Promise.all([
      import('#adapters/icloud/session/login-session.ts'),
      import('../io/prompts.ts'),
      import('./login-code.ts'),
    ]);
  const { output } = ctx;
  const interactive = output.interactive;
  const terminal = interactive ? new TerminalPrompter() : undefined;
  const stdinCodes = interactive ? undefined : new StdinPrompter();
  try {
    const appleId = options.appleId ?? (await askOrStoredAppleId(ctx, terminal));
    const endpoint = await ctx.endpoint();
    const login = await beginLogin({
      endpoint,
      store: ctx.store,
      appleId: appleId.trim(),
      logger: ctx.logger,
      ...(ctx.observer ? { observer: ctx.observer } : {}),
    });

    // To be remembered, the password is needed whichever way this goes: stored with the working
    // session, or for the sign-in.
    const remembered = options.rememberPassword ? await readPassword(options, terminal) : undefined;
    if (!options.force) {
      const current = await login.checkStored();
      if (current) {
        // Each login decides the remembered password again (docs/login.md), with no sign-in.
        const passwordChange = await login.rememberPassword(remembered);
        output.success(
          `Already signed in as ${appleId}; the session at ${ctx.store.describe()} still works.`,
        );
        if (passwordChange === 'stored')
          output.info(
            'The password is now stored for unattended renewal. Apple was not asked to check it (the session works, so there was no sign-in): to check it, run npx icloud-s3 login --force --remember-password.',
          );
        if (passwordChange === 'removed')
          output.info(
            'The remembered password was removed: when the iCloud cookies expire (about 30 days), run npx icloud-s3 login again.',
          );
        output.result({
          ...resultOf(
            'already-signed-in',
            appleId,
            current.dsid,
            ctx,
            login.session.trustExpiresAt(),
            login.session.fields.password !== undefined,
          ),
          passwordChange,
        });
        return;
      }
    }

    const password = remembered ?? (await readPassword(options, terminal));
    const passwordBefore = login.session.fields.password;
    output.step(`Signing in to iCloud as ${appleId}…`);
    const authenticator = await login.startSignIn();
    let signedIn: Awaited<ReturnType<typeof authenticator.signIn>>;
    try {
      signedIn = await authenticator.signIn(password);
    } catch (error) {
      // The refusal (a wrong password, Apple's throttle) is what the person must read; a failed
      // save of the throttle window is only a warning beside it.
      await login.saveThrottle().catch((saveError: unknown) => {
        output.warn(`The sign-in's throttle window was not stored: ${errorMessage(saveError)}`);
      });
      throw error;
    }
    await login.saveThrottle();

    let dsid: string;
    if (signedIn.status === 'signed-in') {
      dsid = signedIn.account.dsid;
      output.step('Apple trusts this client; no code needed.');
    } else {
      output.info('Apple needs a verification code for this sign-in.');
      if (endpoint.kind === 'simulator') {
        // The simulated iPhone is the simulator's control API (simulator/README.md).
        output.info(
          `  The simulator's trusted device shows it at ${endpoint.id.replace(/\/+$/, '')}/2fa/code?appleId=${encodeURIComponent(appleId.trim())}`,
        );
      }
      const delivery = await chooseDelivery(signedIn.challenge, options.sms, terminal);
      dsid = (await signInWithCode(output, authenticator, delivery, terminal ?? stdinCodes!)).dsid;
    }

    await login.save(options.rememberPassword ? { rememberPassword: password } : {});
    const trustExpiresAt = login.session.trustExpiresAt();
    output.success(`Signed in as ${appleId}. Session stored at ${ctx.store.describe()}.`);
    const replaced = login.replacedAccount(dsid);
    if (replaced !== undefined) {
      // An archive synced with the replaced session refuses this one (finding: another Apple ID).
      output.warn(
        `This replaced the stored session of another Apple ID (${replaced}). An archive synced with that account refuses this session: give each Apple ID its own --local DIR and --session-file PATH (in AWS, its own stack), or sign in again with ${replaced}.`,
      );
    }
    if (trustExpiresAt) {
      output.info(
        `Apple's trust lasts until about ${new Date(trustExpiresAt).toISOString().slice(0, 10)}; run npx icloud-s3 login again before then.`,
      );
    }
    if (!options.rememberPassword) {
      output.info(
        'The password was not stored: when the iCloud cookies expire (about 30 days), run npx icloud-s3 login again, or use --remember-password for unattended renewal.',
      );
    }
    const passwordAfter = login.session.fields.password;
    output.result({
      ...resultOf('signed-in', appleId, dsid, ctx, trustExpiresAt, Boolean(options.rememberPassword)),
      passwordChange: passwordChangeOf(passwordBefore, passwordAfter),
      ...(replaced === undefined ? {} : { replacedAccount: replaced }),
    });
  } finally {
    stdinCodes?.close();
  }
}

function resultOf(
  status: Extract<ResultStatus, 'signed-in' | 'already-signed-in'>,
  appleId: string,
  dsid: string,
  ctx: CliContext,
  trustExpiresAt: number | undefined,
  passwordRemembered: boolean,
): JsonResult {
  return {
    status,
    appleId,
    dsid,
    sessionStoredIn: ctx.store.describe(),
    ...(ctx.store instanceof FileSessionStore ? { sessionFile: ctx.store.path } : {}),
    trustExpiresAt: trustExpiresAt ? new Date(trustExpiresAt).toISOString() : null,
    passwordRemembered,
  };
}

/** What a sign-in's save did to the remembered password (`null`: nothing). */
function passwordChangeOf(before: string | undefined, after: string | undefined): PasswordChange {
  if (before === after) return null;
  return after === undefined ? 'removed' : 'stored';
}
