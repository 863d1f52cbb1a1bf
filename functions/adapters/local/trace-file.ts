/**
 * A trace file (`--trace FILE`): `{source, interactions: [...]}`, mode 0600, and valid JSON after
 * every exchange. Each interaction is written in place of the closing brackets, followed by them
 * again, in one synchronous write: a crash mid-login leaves a file that parses and holds every
 * exchange completed so far. Nothing is ever buffered in memory.
 */
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import type { TraceSink } from '#adapters/icloud/http/trace-recorder.ts';
import type { TraceInteraction } from '#shared/trace-redaction.ts';

const CLOSING = '\n  ]\n}\n';

/** Indents a pretty-printed interaction to sit inside the `interactions` array. */
function entryText(interaction: TraceInteraction): string {
  return JSON.stringify(interaction, null, 2)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

export class TraceFile implements TraceSink {
  readonly path: string;
  #fd: number | undefined;
  #offset: number;
  #count = 0;

  /** Creates (or truncates) `path` with mode 0600 and writes the empty trace. */
  constructor(path: string, source: string) {
    this.path = path;
    this.#fd = openSync(path, 'w', 0o600);
    // An existing file keeps its mode on open: tighten it before anything is written.
    fchmodSync(this.#fd, 0o600);
    const head = `{\n  "source": ${JSON.stringify(source)},\n  "interactions": [`;
    writeSync(this.#fd, head + CLOSING, 0);
    this.#offset = Buffer.byteLength(head);
  }

  /** How many interactions the file holds. */
  get count(): number {
    return this.#count;
  }

  append(interaction: TraceInteraction): void {
    if (this.#fd === undefined) return;
    const entry = `${this.#count === 0 ? '\n' : ',\n'}${entryText(interaction)}`;
    writeSync(this.#fd, entry + CLOSING, this.#offset);
    this.#offset += Buffer.byteLength(entry);
    this.#count++;
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
