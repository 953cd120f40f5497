// Voting with the keyboard alone: from the empty voter page to a verified receipt with Tab, Shift+Tab,
// Space, Enter, the arrow keys and typed text, never a mouse click, element.click() or locator.focus().
// Every control the focus lands on shows a visible focus ring.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ballotFor, type Voter } from '../../../test/support/fixtures.js';
import { ballotHash } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, PHONE, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';
import { openPage, type Viewport } from './states.js';

const E = 'keyboard-vote';
let stack: WebStack;
let browser: Browser;
let voters: Voter[];

interface Focused {
  /** A short description: `tag#id`, `input[name=value]` or the text of a button/link/summary. */
  what: string;
  /** The focus ring: the element's own outline, or its label's / details' when the control is styled through them. */
  ring: boolean;
}

/** What has the focus now, and whether it shows. */
function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: 'body', ring: false };
    const input = el as HTMLInputElement;
    const what =
      el.tagName === 'INPUT' && (input.type === 'radio' || input.type === 'checkbox')
        ? `input[name=${input.name}][value=${input.value}]`
        : el.id
          ? `${el.tagName.toLowerCase()}#${el.id}`
          : `${el.tagName.toLowerCase()}:${(el.textContent ?? '').trim().slice(0, 40)}`;
    const style = getComputedStyle(el);
    const ring =
      el.matches(':focus-visible') && style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2;
    return { what, ring };
  });
}

/** Tab (or Shift+Tab) until the focus is on `what` (as `focused` describes it); each stop shows its ring. */
async function tabTo(page: Page, what: string | RegExp, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < (opts.max ?? 40); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    seen.push(f.what);
    expect(f.ring, `focus ring on ${f.what}`).toBe(true);
    if (typeof what === 'string' ? f.what === what : what.test(f.what)) return;
  }
  throw new Error(`never reached ${what} with ${opts.back ? 'Shift+Tab' : 'Tab'}; went through ${seen.join(' → ')}`);
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ({ voters } = await stack.election(E, 2, { windowSeconds: 2 }));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('keyboard-only voting', () => {
  const viewports: Viewport[] = [
    { name: 'desktop', ...DESKTOP },
    { name: 'phone', ...PHONE },
  ];
  for (const [i, viewport] of viewports.entries()) {
    it(`casts a ballot and checks its receipt with the keyboard alone (${viewport.name})`, async () => {
      const v = voters[i]!;
      const { context, page } = await openPage(browser, viewport);
      try {
        await page.goto(`${stack.url}/`);
        await expect.poll(() => page.locator('h1').textContent()).toBe('Cast your ballot');

        // The first stop is the skip link; Enter on it takes the next Tab into the main content.
        await page.keyboard.press('Tab');
        expect(await focused(page)).toEqual({ what: 'a:Skip to main content', ring: true });
        expect(await page.locator('.skip').evaluate((a) => a.getBoundingClientRect().left >= 0)).toBe(true);
        await page.keyboard.press('Enter');
        await tabTo(page, 'input#election-id', { max: 1 });
        await page.keyboard.type(E);
        await page.keyboard.press('Enter');

        // The credential step opens with the focus on its heading; "paste" is the checked way.
        await expect.poll(() => focused(page).then((f) => f.what), { timeout: 15_000 }).toBe('h2#h-credential');
        await tabTo(page, 'input[name=cred-mode][value=paste]');
        await tabTo(page, 'input#seed-input', { max: 1 });
        await page.keyboard.type(v.seed.toString('hex'));
        await page.keyboard.press('Enter');
        await expect.poll(() => page.locator('#cred-public').textContent(), { timeout: 15_000 }).toBe(v.credential);

        // The details behind the credential open with the keyboard (a native <details>).
        // The choices step took the focus; its details are just before it.
        await tabTo(page, 'summary:Details', { back: true });
        await page.keyboard.press('Enter');
        expect(await page.locator('#cred-loaded details').evaluate((d: HTMLDetailsElement) => d.open)).toBe(true);

        // q1: Space picks the first answer, the arrow key moves to the second. council: Space on two boxes.
        await tabTo(page, 'input[name=contest-q1][value=oui]');
        await page.keyboard.press('Space');
        await page.keyboard.press('ArrowDown');
        expect(await page.locator('#contest-q1-non').isChecked()).toBe(true);
        await tabTo(page, 'input[name=contest-council][value=ana]', { max: 1 });
        await page.keyboard.press('Space');
        await tabTo(page, 'input[name=contest-council][value=bo]', { max: 1 });
        await page.keyboard.press('Space');
        // Back to Ana with Shift+Tab and forward again: her box stays checked.
        await tabTo(page, 'input[name=contest-council][value=ana]', { back: true, max: 1 });
        expect(await page.locator('#contest-council-ana').isChecked()).toBe(true);
        await tabTo(page, /^button:Review my ballot$/);
        await page.keyboard.press('Enter');

        await expect.poll(() => focused(page).then((f) => f.what), { timeout: 15_000 }).toBe('h2#h-review');
        expect(await page.locator('#review-list').textContent()).toContain('Ana, Bo');
        await tabTo(page, 'button#cast-button');
        await page.keyboard.press('Space');

        const expected = ballotHash(ballotFor(v, E, { q1: ['non'], council: ['ana', 'bo'] })).toString('hex');
        await expect
          .poll(() => page.locator('#receipt-box').textContent(), { timeout: 20_000 })
          .toContain('Your ballot was recorded.');
        expect(await page.getByTestId('receipt-hash').textContent()).toBe(expected);
        expect(
          (await stack.api<{ receipt: { ballotHash: string } }>(`/api/v1/receipts/${expected}`)).receipt.ballotHash,
        ).toBe(expected);

        // The check, started with Enter, ends verified against the chain.
        await tabTo(page, /^button:Check my receipt now$/);
        await page.keyboard.press('Enter');
        await expect
          .poll(() => page.getByTestId('check-outcome').textContent(), { timeout: 60_000, interval: 500 })
          .toContain('Verified');
      } finally {
        await context.close();
      }
    });
  }
});
