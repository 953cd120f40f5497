// A blank vote counted and shown: the contests of docs/test-vectors/results.json on the real stack; six of the
// vector's ballots are cast over HTTP, the seventh, blank in the referendum, in the voter page. The results
// page, following the stream, shows a Blank row with its count and percentage, and says what the
// percentages are of: the referendum reads Yes 2, No 4, Blank 1 of 7 ballots (100 % in all).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Voter } from '../../../test/support/fixtures.js';
import type { Manifest } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';

interface ResultsVector {
  manifest: Manifest;
  ballots: { submission: { ballot: { selections: Record<string, string[]> } } }[];
  contests: Record<string, { ballotsCounted: number; blank: number }>;
  percentOfBallotsCounted: Record<string, Record<string, number>>;
}

const v = JSON.parse(
  readFileSync(new URL('../../../docs/test-vectors/results.json', import.meta.url), 'utf8'),
) as ResultsVector;
const E = 'blank-vote';
const selections = v.ballots.map((b) => b.submission.ballot.selections);
const BLANK = selections.findIndex((s) => s.referendum!.length === 0);

let stack: WebStack;
let browser: Browser;
let voters: Voter[];
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return page;
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ({ voters } = await stack.election(E, selections.length, { over: { contests: v.manifest.contests } }));
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('blank votes on the results page', () => {
  it('a blank vote cast in the voter page is counted and shown, with the percentage basis', async () => {
    const results = await newPage();
    await results.goto(`${stack.url}/results/${E}`);
    await expect.poll(() => results.locator('#live').textContent()).toBe('Live');
    // Where a blank vote is allowed the Blank row is there from the start; q1 (minSelections 1) has none.
    const blankRow = (contest: string) => results.locator(`[data-blank="${contest}"]`);
    await expect.poll(() => blankRow('referendum').isVisible()).toBe(true);
    expect(await blankRow('council').isVisible()).toBe(true);
    expect(await blankRow('q1').isVisible()).toBe(false);

    for (const [i, s] of selections.entries()) if (i !== BLANK) await stack.cast(E, voters[i]!, s);
    await expect.poll(() => results.locator('#total').textContent(), { timeout: 10_000 }).toBe('6');
    expect(await blankRow('referendum').getAttribute('data-count')).toBe('0');

    // The seventh ballot in the page: blank in the referendum, as the vector's.
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${E}`);
    await page.getByLabel('Private key (64 hexadecimal characters)').fill(voters[BLANK]!.seed.toString('hex'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => page.locator('#cred-public').textContent()).toBe(voters[BLANK]!.credential);
    const wanted = selections[BLANK]!;
    expect(wanted).toEqual({ referendum: [], council: ['chloe'], q1: ['oui'] });
    await page.locator('#fs-referendum').getByLabel('No choice (blank vote)').check();
    await page.getByLabel('Chloé').check();
    await page.getByLabel('Oui').check();
    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#review-list').textContent()).toContain('Blank vote');
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.locator('#receipt-box').textContent()).toContain('Your ballot was recorded.');

    // Counted: the stream brings it, the Blank row shows it.
    await expect.poll(() => results.locator('#total').textContent(), { timeout: 10_000 }).toBe('7');
    await expect.poll(() => blankRow('referendum').getAttribute('data-count')).toBe('1');
    const row = (sel: string) => results.locator(`${sel} .count`).textContent();
    expect(await row('[data-blank="referendum"]')).toBe('1 vote · 14.3% of ballots');
    expect(await row('[data-choice="referendum/yes"]')).toBe('2 votes · 28.6% of ballots');
    expect(await row('[data-choice="referendum/no"]')).toBe('4 votes · 57.1% of ballots');
    expect(await results.locator('[data-blank="referendum"] .name').textContent()).toBe('Blank');
    expect(await results.locator('[data-basis="referendum"]').textContent()).toBe(
      'Percentages of the 7 ballots counted in this contest.',
    );
    expect(await blankRow('council').getAttribute('data-count')).toBe(String(v.contests.council!.blank));
    expect(await row('[data-blank="council"]')).toBe('3 votes · 42.9% of ballots');
    expect(await blankRow('q1').isVisible()).toBe(false);

    // The referendum's rows add up: 100 % of its ballots, as the vector's percentages.
    const shown = await results
      .locator('[data-basis="referendum"] + ol.bars li:not([hidden]) .count')
      .allTextContents();
    const percents = shown.map((t) => Number(/([\d.]+)%/.exec(t)![1]));
    expect(percents).toEqual(Object.values(v.percentOfBallotsCounted.referendum!));
    expect(percents.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 5);
    expect((await stack.api(`/api/v1/elections/${E}/results`)).contests).toEqual(v.contests);
  });
});
