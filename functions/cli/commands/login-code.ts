/**
 * The two-factor part of `icloud-s3 login`: where the code goes, and typing it. A person receives
 * exactly one code per login, in every way Apple works:
 *
 * - Apple before 2026 pushed a code to the devices by itself when the password was accepted, and
 *   a request for a code pushed another one that cancelled the first. Apple since 2026 sends
 *   nothing until asked (`PUT verify/trusteddevice/securitycode`). Apple's answers do not say
 *   which of the two an account gets, so for the devices the person decides: a code already
 *   showing is typed as is; an empty answer asks Apple for one, once.
 * - A text message is always asked for, once, as soon as the person picked the number.
 * - Nothing is ever requested again between a code being sent and it being submitted (kei's rule):
 *   a wrong code is typed again, never re-sent.
 */
import type { AccountInfo } from '#adapters/icloud/auth/account-document.ts';
import type { IcloudAuthenticator } from '#adapters/icloud/auth/authenticator.ts';
import { type CodeDelivery, WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import type { TrustedPhoneNumber, TwoFactorChallenge } from '#adapters/icloud/auth/two-factor-challenge.ts';
import { InvalidInputError } from '#domain/errors.ts';
import { UsageError } from '../io/exit-codes.ts';
import type { Output } from '../io/output.ts';
import type { Prompter } from '../io/prompts.ts';

/** Attempts at typing a code before giving up (kei allows 3). No new code is pushed between them. */
const CODE_ATTEMPTS = 3;
/** Empty answers tolerated once a code was requested (then stdin is probably not a person). */
const EMPTY_ANSWERS = 3;

/**
 * Where the code goes: `--sms <id>`; else, for an account without trusted devices, its (first)
 * trusted number; else a menu on a terminal when there are numbers; else the devices.
 */
export async function chooseDelivery(
  challenge: TwoFactorChallenge,
  sms: number | undefined,
  prompter: Prompter | undefined,
): Promise<CodeDelivery> {
  if (sms !== undefined) {
    const phone = challenge.trustedPhoneNumbers.find((p) => p.id === sms);
    if (!phone) {
      const ids = challenge.trustedPhoneNumbers.map((p) => `${p.id} (${p.numberWithDialCode})`).join(', ');
      throw new UsageError(
        `--sms ${sms} is not a trusted number of this Apple ID; choose one of: ${ids || 'none'}`,
      );
    }
    return smsTo(phone);
  }
  const phones = challenge.trustedPhoneNumbers;
  // Without a trusted device Apple pushes nothing: the code can only come by text message.
  const devices = !(challenge.noTrustedDevices && phones.length > 0);
  if (!devices && (!prompter || phones.length === 1)) return smsTo(phones[0]!);
  if (!prompter || phones.length === 0) return { kind: 'device' };
  return prompter.choose<CodeDelivery>('Where should the code come from?', [
    ...(devices
      ? [{ name: 'My Apple devices (iPhone, iPad, Mac)', value: { kind: 'device' } as const }]
      : []),
    ...phones.map((p) => ({
      name: `A text message to ${p.numberWithDialCode}`,
      value: smsTo(p),
    })),
  ]);
}

/** An SMS delivery to `phone`, carrying its `nonFTEU` flag back to Apple as Apple gave it. */
function smsTo(phone: TrustedPhoneNumber): CodeDelivery {
  return {
    kind: 'sms',
    phoneId: phone.id,
    ...(phone.nonFTEU !== undefined ? { nonFTEU: phone.nonFTEU } : {}),
  };
}

/**
 * Gets the code to Apple: requests it as described above, reads what the person types (a wrong
 * code may be typed again), and returns the trusted account.
 */
export async function signInWithCode(
  output: Pick<Output, 'info' | 'warn'>,
  authenticator: Pick<IcloudAuthenticator, 'requestCode' | 'verifyCode'>,
  delivery: CodeDelivery,
  prompter: Prompter,
): Promise<AccountInfo> {
  let requested = false;
  const request = async () => {
    requested = true;
    await authenticator.requestCode(delivery);
    output.info(
      delivery.kind === 'device'
        ? 'Apple is sending a code to your devices. Allow the sign-in there, then type the code here.'
        : 'Apple sent a code by text message.',
    );
  };
  if (delivery.kind === 'sms') {
    await request();
  } else {
    output.info(
      'If a verification code is already showing on your Apple device, type it. If not, press Enter and icloud-s3 asks Apple to send one.',
    );
  }
  let attempts = 0;
  let empty = 0;
  for (;;) {
    const typed = await prompter.text(
      delivery.kind === 'sms'
        ? 'Verification code from the text message'
        : requested
          ? 'Verification code from your device'
          : 'Verification code from your device (Enter: have Apple send one)',
      { allowEmpty: true },
    );
    if (typed.trim() === '') {
      if (!requested) {
        await request();
        continue;
      }
      if (++empty >= EMPTY_ANSWERS) throw new UsageError('no verification code was typed');
      output.warn(
        'Apple was already asked for a code, and asking again would cancel it; type the code you received (it can take a minute to arrive).',
      );
      continue;
    }
    try {
      return await authenticator.verifyCode(delivery, typed);
    } catch (error) {
      const retryable = error instanceof WrongVerificationCodeError || error instanceof InvalidInputError;
      if (!retryable || ++attempts >= CODE_ATTEMPTS) throw error;
      output.warn(
        `${error.message} Try again (${CODE_ATTEMPTS - attempts} left); the code you received is still the one to use.`,
      );
    }
  }
}
