/**
 * The schema of a demo's `demo.json` (cli/demo-path.ts), in a module of its own so that only a
 * command that finds a demo loads zod for it, and the zod/mini the rest of the CLI shares with
 * the Lambda functions (functions/shared/zod.ts): `await import('zod')` would keep all of classic
 * zod, its 40-odd locales too.
 */
import * as z from '#shared/zod.ts';

export const DemoSettingsSchema = z.strictObject({
  seed: z.int().check(z.gte(0)),
  assets: z.int().check(z.gte(1)),
  mediaScale: z.number().check(z.positive()),
});
