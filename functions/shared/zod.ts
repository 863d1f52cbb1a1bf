/**
 * zod for every module the Lambda functions load: `zod/mini`, whose schemas are built from
 * functions (`z.optional(z.string())`, checks as `.check(z.minLength(1))`), so a bundle keeps only
 * what the schemas use: about 40 KB of each function where classic zod took 103 KB (its methods
 * keep every check and wrapper of each schema type). Import it as `import * as z from
 * '#shared/zod.ts'`, never `zod` itself: this module also sets the English messages, once
 * (classic zod sets them when it loads; zod/mini leaves every issue at "Invalid input"), and only
 * English (`z.locales` would bring every language). The CLI, the local servers and the simulator
 * may keep classic zod; what they share with the Lambda functions comes from here.
 */
// biome-ignore-all lint/style/noRestrictedImports: the one module that imports zod for the Lambda functions.
import { config, ZodMiniCatch } from 'zod/mini';
import type * as core from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';

/**
 * zod/mini's `catch` (`catchValue` in place of whatever `innerType` refuses), built the same way.
 * zod/mini's own reaches its constant wrapper through zod's `util` namespace, which keeps all of
 * that namespace in a bundle (10 KB of each Lambda function). This one shadows it.
 */
function catchWith<T extends core.SomeType>(
  innerType: T,
  catchValue: core.output<T> | ((ctx: core.$ZodCatchCtx) => core.output<T>),
): ZodMiniCatch<T> {
  const Catch = ZodMiniCatch as unknown as new (def: core.$ZodCatchDef<T>) => ZodMiniCatch<T>;
  return new Catch({
    type: 'catch',
    innerType,
    catchValue:
      typeof catchValue === 'function'
        ? (catchValue as (ctx: core.$ZodCatchCtx) => unknown)
        : () => catchValue,
  });
}

export { catchWith as catch };
