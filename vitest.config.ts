import { defineConfig } from 'vitest/config';

/**
 * One project per test tier (see test/README.md). `npm test` runs them all;
 * `npx vitest run --project <tier>` runs one.
 */
const tier = (name: string, timeout: number) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`], testTimeout: timeout, hookTimeout: timeout },
});

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', './test/helpers/plain-summary-reporter.ts'],
    projects: [
      tier('unit', 20_000),
      tier('conformance', 60_000),
      tier('adapters', 60_000),
      tier('handlers', 60_000),
      tier('infra', 180_000),
      tier('e2e', 300_000),
    ],
  },
});
