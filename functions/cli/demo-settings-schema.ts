/**
 * The schema of a demo's `demo.json` (cli/demo-path.ts), in a module of its own so that only a
 * command that finds a demo loads zod for it, and through a namespace import: a bundle keeps
 * only the zod it uses (`await import('zod')` would keep all of zod, its 40-odd locales too).
 */
import * as z from 'zod';

export const DemoSettingsSchema = z.strictObject({
  seed: z.number().int().min(0),
  assets: z.number().int().min(1),
  mediaScale: z.number().positive(),
});
