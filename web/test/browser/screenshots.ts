// Writes docs/screenshots/<page>-<state>-desktop.png (1280×800) and -phone.png (390×844) for every state of
// the voter and results pages (web/test/browser/states.ts), and removes the PNGs there it no longer makes.
// Run by `npm run screenshots` (vitest with web/vitest.screenshots.config.ts, for the test database and the
// fresh web/dist the browser tests use); the browser tests themselves write no file.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { DESKTOP, PHONE, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';
import { prepareStates, STATES, walkStates, type StatesContext, type Viewport } from './states.js';

const SHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const VIEWPORTS: Viewport[] = [
  { name: 'desktop', ...DESKTOP },
  { name: 'phone', ...PHONE },
];

let stack: WebStack;
let browser: Browser;
let ctx: StatesContext;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ctx = await prepareStates(stack);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it('photographs every page state at desktop and phone sizes into docs/screenshots/', async () => {
  const written = new Set<string>();
  for (const viewport of VIEWPORTS) {
    await walkStates(browser, ctx, viewport, async (state, page) => {
      const file = `${state}-${viewport.name}.png`;
      await page.screenshot({ path: SHOTS + file, fullPage: true, animations: 'disabled', caret: 'hide' });
      written.add(file);
    });
  }
  expect(written.size).toBe(STATES.length * VIEWPORTS.length);
  const stale = readdirSync(SHOTS).filter((f) => f.endsWith('.png') && !written.has(f));
  for (const f of stale) rmSync(SHOTS + f);
  console.log(`docs/screenshots/: ${written.size} written${stale.length ? `, removed ${stale.join(', ')}` : ''}`);
});
