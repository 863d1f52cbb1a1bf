/**
 * The library's durable state under `stateDir/library/`: `meta.json` (seed, size, anchor time) and
 * `ops.jsonl` (every applied op with its time, one JSON object per line). Replaying the ops over the
 * regenerated library recreates every log position, so sync tokens survive restarts (S84 in docs/protocol/simulator-contract.md#change-feeds).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

const metaSchema = z.object({
  seed: z.number(),
  assets: z.number(),
  anchor: z.number(),
  version: z.literal(1),
});
export type LibraryMeta = z.infer<typeof metaSchema>;

const opLineSchema = z.object({ at: z.number(), op: z.unknown() });
export type OpLine = z.infer<typeof opLineSchema>;

export class LibraryStore {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'library');
  }

  /** The stored meta and ops when they belong to this seed and size; otherwise a fresh store. */
  load(seed: number, assets: number, anchor: number): { meta: LibraryMeta; ops: OpLine[] } {
    mkdirSync(this.#dir, { recursive: true });
    const metaPath = join(this.#dir, 'meta.json');
    if (existsSync(metaPath)) {
      const parsed = metaSchema.safeParse(JSON.parse(readFileSync(metaPath, 'utf8')));
      if (parsed.success && parsed.data.seed === seed && parsed.data.assets === assets) {
        return { meta: parsed.data, ops: this.#readOps() };
      }
    }
    const meta: LibraryMeta = { seed, assets, anchor, version: 1 };
    writeFileSync(metaPath, `${JSON.stringify(meta)}\n`);
    writeFileSync(join(this.#dir, 'ops.jsonl'), '');
    return { meta, ops: [] };
  }

  append(line: OpLine): void {
    appendFileSync(join(this.#dir, 'ops.jsonl'), `${JSON.stringify(line)}\n`);
  }

  #readOps(): OpLine[] {
    const path = join(this.#dir, 'ops.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        try {
          const parsed = opLineSchema.safeParse(JSON.parse(line));
          return parsed.success ? [parsed.data] : [];
        } catch {
          // A torn last line after a crash: everything before it is intact.
          return [];
        }
      });
  }
}
