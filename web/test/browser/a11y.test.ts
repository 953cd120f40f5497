// WCAG 2.1 A and AA on every state of both pages (web/test/browser/states.ts), at desktop (1280×800) and
// phone (390×844) sizes: axe-core finds no violation. axe runs in the page through DevTools
// (page.evaluate), so the pages keep the Content-Security-Policy the API sends.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DESKTOP, PHONE, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';
import {
  OPEN,
  openPage,
  prepareStates,
  STATES,
  walkStates,
  type StateName,
  type StatesContext,
  type Viewport,
} from './states.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core's violations of WCAG 2.1 A/AA on the page as it is now, one line per element; then again with every
 * closed "Details" opened (axe skips hidden content), closed back afterwards.
 */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const { violations, passed } = await page.evaluate(async (tags) => {
    const { axe } = window as unknown as {
      axe: { run(ctx: Document, opts: object): Promise<{ violations: Violation[]; passes: unknown[] }> };
    };
    const opts = { runOnly: { type: 'tag', values: tags } };
    const closed = Array.from(document.querySelectorAll('details')).filter((d) => !d.open);
    const r = await axe.run(document, opts);
    for (const d of closed) d.open = true;
    const inside = closed.length > 0 ? (await axe.run(document, opts)).violations : [];
    for (const d of closed) d.open = false;
    return { violations: [...r.violations, ...inside], passed: r.passes.length };
  }, WCAG_21_AA);
  // axe ran its rules on this page (a page it could not read would pass nothing).
  expect(passed).toBeGreaterThan(5);
  return violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(' ')} — ${n.failureSummary ?? ''}`),
  );
}

let stack: WebStack;
let browser: Browser;
let ctx: StatesContext;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ctx = await prepareStates(stack);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('accessibility (axe-core, WCAG 2.1 AA)', () => {
  for (const viewport of [
    { name: 'desktop', ...DESKTOP },
    { name: 'phone', ...PHONE },
  ] satisfies Viewport[]) {
    it(`finds no violation in any state of the voter and results pages at ${viewport.name} size (${viewport.width}×${viewport.height})`, async () => {
      const found: Partial<Record<StateName, string[]>> = {};
      await walkStates(browser, ctx, viewport, async (state, page) => {
        found[state] = await axeViolations(page);
        // The language the page says it is in is the one shown.
        expect(await page.locator('html').getAttribute('lang'), state).toBe('en');
      });
      expect(Object.keys(found)).toEqual([...STATES]);
      expect(found).toEqual(Object.fromEntries(STATES.map((s) => [s, []])));
    });
  }

  it('says lang="fr" and finds no violation once the voter switches to French (voter page and results page)', async () => {
    const { context, page } = await openPage(browser, { name: 'phone', ...PHONE });
    try {
      await page.goto(`${stack.url}/?election=${OPEN}`);
      await expect.poll(() => page.locator('#election-summary h3').isVisible(), { timeout: 15_000 }).toBe(true);
      await page.getByRole('button', { name: 'Français' }).click();
      await expect.poll(() => page.locator('h1').textContent()).toBe('Voter');
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await axeViolations(page)).toEqual([]);
      // The choice is kept: the results page opens in French.
      await page.goto(`${stack.url}/results/${OPEN}`);
      await expect.poll(() => page.locator('#live').textContent(), { timeout: 15_000 }).toBe('En direct');
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('sees a violation when there is one (an unlabelled field, text below AA contrast)', async () => {
    const { context, page } = await openPage(browser, { name: 'desktop', ...DESKTOP });
    try {
      await page.goto(`${stack.url}/`);
      expect(await axeViolations(page)).toEqual([]);
      await page.evaluate(() => {
        const input = document.createElement('input');
        input.id = 'no-label';
        const faint = document.createElement('p');
        faint.id = 'faint';
        faint.textContent = 'faint text';
        faint.style.color = '#bbbbbb';
        document.querySelector('main')!.append(input, faint);
      });
      const found = await axeViolations(page);
      expect(found.some((v) => v.startsWith('label') && v.includes('#no-label'))).toBe(true);
      expect(found.some((v) => v.startsWith('color-contrast') && v.includes('#faint'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
