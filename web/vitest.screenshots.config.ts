// `npm run screenshots`: every state of the voter and results pages photographed into docs/screenshots/
// (web/test/browser/screenshots.ts) on the same real stack as the browser tests (their database, the fresh
// web/dist their global setup builds); not part of any test run.
import { defineConfig } from 'vitest/config';
import browserConfig from './vitest.browser.config.js';

export default defineConfig({
  ...browserConfig,
  test: { ...browserConfig.test, include: ['web/test/browser/screenshots.ts'], testTimeout: 600_000 },
});
