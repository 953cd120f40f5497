import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'web/test/browser/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: the tests start real servers, chains and databases, so run files two at a time.
    maxWorkers: 2,
    env: { TALLYPROOF_APP_DB_PASSWORD: 'tallyproof-test-app' },
    // .ci/run asks for a JSON report as well, to print its own "N passed, N failed" line.
    reporters: process.env.TALLYPROOF_TEST_JSON
      ? ['default', ['json', { outputFile: process.env.TALLYPROOF_TEST_JSON }]]
      : ['default'],
  },
});
