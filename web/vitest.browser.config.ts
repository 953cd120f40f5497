// Browser tests of the voter and results pages: `npx vitest run --config web/vitest.browser.config.ts`
// (npm run test:browser). Chromium (Debian package, /usr/bin/chromium or CHROMIUM_PATH) driven by
// playwright-core against a real stack; web/dist is rebuilt first. Not part of `npm test`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['web/test/browser/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts', 'web/test/browser/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: one browser and one stack at a time.
    maxWorkers: 1,
    fileParallelism: false,
    env: { TALLYPROOF_APP_DB_PASSWORD: 'tallyproof-test-app' },
    reporters: process.env.TALLYPROOF_TEST_JSON
      ? ['default', ['json', { outputFile: process.env.TALLYPROOF_TEST_JSON }]]
      : ['default'],
  },
});
