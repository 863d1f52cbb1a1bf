/**
 * What the CLI prints. Human text goes to stdout, or to stderr with `--json` so stdout carries
 * exactly one JSON result object. Colour is decided per stream (io/colour.ts): a terminal on
 * stdout says nothing about a redirected stderr.
 */
import { scrubSecrets } from '#shared/redact.ts';
import { colourFor, paint, type Style } from './colour.ts';
import type { JsonResult } from './result-status.ts';

export class Output {
  readonly json: boolean;
  readonly #human: NodeJS.WriteStream;
  readonly #humanColour: boolean;
  readonly #stderrColour: boolean;

  constructor(options: { readonly json: boolean }) {
    this.json = options.json;
    this.#human = options.json ? process.stderr : process.stdout;
    this.#humanColour = colourFor(this.#human);
    this.#stderrColour = colourFor(process.stderr);
  }

  /** Whether the person is at a terminal (prompts and progress make sense). */
  get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stdout.isTTY);
  }

  #paint(style: Style, text: string): string {
    return this.#humanColour ? paint(style, text) : text;
  }

  #paintStderr(style: Style, text: string): string {
    return this.#stderrColour ? paint(style, text) : text;
  }

  info(text: string): void {
    this.#human.write(`${text}\n`);
  }

  step(text: string): void {
    this.#human.write(`${this.#paint('dim', '›')} ${text}\n`);
  }

  success(text: string): void {
    this.#human.write(`${this.#paint('green', '✔')} ${text}\n`);
  }

  warn(text: string): void {
    process.stderr.write(`${this.#paintStderr('yellow', '!')} ${text}\n`);
  }

  /** An error for a person: one scrubbed message, plus what to do when we know it. */
  error(text: string, hint?: string): void {
    process.stderr.write(`${this.#paintStderr('red', '✖')} ${scrubSecrets(text)}\n`);
    if (hint) process.stderr.write(`  ${hint}\n`);
  }

  /** The `--json` result object (printed only with `--json`); its `status` is a word of io/result-status.ts. */
  result(value: JsonResult): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  }
}
