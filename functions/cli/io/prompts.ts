/**
 * How the CLI asks a person for something: @inquirer/prompts on a terminal (hidden password,
 * menus), or one line of stdin per answer when stdin is a pipe (scripts, tests).
 */
import { createInterface, type Interface } from 'node:readline';
import { input, password, select } from '@inquirer/prompts';
import { UsageError } from './exit-codes.ts';

export interface Choice<T> {
  readonly name: string;
  readonly value: T;
}

export interface TextOptions {
  /** An empty answer is an answer (e.g. "press Enter to have Apple send a code"). */
  readonly allowEmpty?: boolean;
  /** The answer Enter gives (shown in the prompt), on a terminal. */
  readonly default?: string;
}

export type PromptStreams = Parameters<typeof password>[1];

export interface Prompter {
  text(message: string, options?: TextOptions): Promise<string>;
  secret(message: string): Promise<string>;
  choose<T>(message: string, choices: readonly Choice<T>[]): Promise<T>;
}

export class TerminalPrompter implements Prompter {
  /** Where the prompts read and write: the terminal, unless a test hands in streams. */
  constructor(private readonly streams?: PromptStreams) {}

  text(message: string, options: TextOptions = {}): Promise<string> {
    return input({
      message,
      required: !options.allowEmpty,
      ...(options.default === undefined ? {} : { default: options.default }),
    });
  }
  // No mask: not even the length of the password shows on the screen.
  secret(message: string): Promise<string> {
    return password({ message }, this.streams);
  }
  choose<T>(message: string, choices: readonly Choice<T>[]): Promise<T> {
    return select({ message, choices: choices.map((c) => ({ name: c.name, value: c.value })) });
  }
}

/** Reads answers line by line from stdin; never echoes, never asks twice for the same line. */
export class StdinPrompter implements Prompter {
  #lines: AsyncIterator<string> | undefined;
  #reader: Interface | undefined;

  async text(message: string, _options: TextOptions = {}): Promise<string> {
    // Say what is awaited, so a script's log shows why the command waits (and a driver knows when to answer).
    process.stderr.write(`? ${message} (reading a line from stdin)\n`);
    this.#reader ??= createInterface({ input: process.stdin, terminal: false });
    this.#lines ??= this.#reader[Symbol.asyncIterator]();
    const next = await this.#lines.next();
    if (next.done) throw new UsageError(`stdin ended before an answer to "${message}"`);
    return next.value.trim();
  }
  secret(message: string): Promise<string> {
    return this.text(message);
  }
  async choose<T>(message: string, _choices: readonly Choice<T>[]): Promise<T> {
    throw new UsageError(`"${message}" needs a terminal; pass the choice as an option`);
  }
  close(): void {
    this.#reader?.close();
  }
}
