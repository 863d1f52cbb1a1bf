/**
 * The code step of `icloud-s3 login` (functions/cli/commands/login-code.ts) against a fake Apple
 * that behaves like both generations: before 2026 a code is showing from the start and every
 * request replaces it; since 2026 nothing shows until the one request.
 */
import { describe, expect, it } from 'vitest';
import type { AccountInfo } from '#adapters/icloud/auth/account-document.ts';
import { type CodeDelivery, WrongVerificationCodeError } from '#adapters/icloud/auth/two-factor.ts';
import { signInWithCode } from '../../functions/cli/commands/login-code.ts';
import type { Choice, Prompter, TextOptions } from '../../functions/cli/io/prompts.ts';

const ACCOUNT: AccountInfo = {
  dsid: '1',
  ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443',
  requiresTwoFactor: false,
  hsaVersion: 2,
};

/** Apple's side of one challenge: which code is current, and how many were sent. */
class CodeSendingApple {
  current: string | undefined;
  sent = 0;
  requests = 0;
  constructor(readonly pushedAtSignIn: boolean) {
    if (pushedAtSignIn) this.#send();
  }
  #send(): void {
    this.sent += 1;
    this.current = String(100000 + this.sent);
  }
  async requestCode(_delivery: CodeDelivery): Promise<void> {
    this.requests += 1;
    this.#send();
  }
  async verifyCode(_delivery: CodeDelivery, typed: string): Promise<AccountInfo> {
    if (typed !== this.current)
      throw new WrongVerificationCodeError('Apple did not accept that verification code.');
    return ACCOUNT;
  }
}

/** A person who types the code showing on the device, else presses Enter; `script` overrides answers in order. */
class Person implements Prompter {
  readonly asked: string[] = [];
  constructor(
    readonly apple: CodeSendingApple,
    readonly script: (string | undefined)[] = [],
  ) {}
  async text(message: string, _options?: TextOptions): Promise<string> {
    this.asked.push(message);
    const scripted = this.script.shift();
    return scripted ?? this.apple.current ?? '';
  }
  async secret(): Promise<string> {
    throw new Error('no secret asked here');
  }
  async choose<T>(_message: string, choices: readonly Choice<T>[]): Promise<T> {
    return choices[0]!.value;
  }
}

const quiet = { info: () => {}, warn: () => {} };
const device: CodeDelivery = { kind: 'device' };

describe('one code per login at the code prompt', () => {
  it('types the code Apple pushed at sign-in (before 2026) without asking for another', async () => {
    const apple = new CodeSendingApple(true);
    await expect(signInWithCode(quiet, apple, device, new Person(apple))).resolves.toBe(ACCOUNT);
    expect(apple).toMatchObject({ sent: 1, requests: 0 });
  });

  it('asks Apple once when no code is showing (since 2026)', async () => {
    const apple = new CodeSendingApple(false);
    const person = new Person(apple);
    await signInWithCode(quiet, apple, device, person);
    expect(apple).toMatchObject({ sent: 1, requests: 1 });
    expect(person.asked).toHaveLength(2);
  });

  it('never asks again after a wrong code or an empty answer once a code was requested', async () => {
    const apple = new CodeSendingApple(false);
    const person = new Person(apple, ['', '999999', '', undefined]);
    await signInWithCode(quiet, apple, device, person);
    expect(apple).toMatchObject({ sent: 1, requests: 1 });
    expect(person.asked).toHaveLength(4);
  });

  it('asks for a text message once, before the prompt', async () => {
    const apple = new CodeSendingApple(false);
    await signInWithCode(quiet, apple, { kind: 'sms', phoneId: 1 }, new Person(apple));
    expect(apple).toMatchObject({ sent: 1, requests: 1 });
  });

  it('gives up after three wrong codes without a new request', async () => {
    const apple = new CodeSendingApple(true);
    const person = new Person(apple, ['000001', '000002', '000003']);
    await expect(signInWithCode(quiet, apple, device, person)).rejects.toThrow(WrongVerificationCodeError);
    expect(apple.requests).toBe(0);
  });
});
