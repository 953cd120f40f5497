// An early close shown truthfully (#15 item 2), in Chromium against the real stack (stack.ts: PostgreSQL,
// anvil with TallyAnchor, the anchor worker, the API serving web/dist). After an admin close long before
// the manifest's closesAt: a ballot cast from a page loaded while the election was open is refused with
// the actual close time; the voter page shows that time (and the schedule it came before); the results
// page says Closed and never Live, and shows the result hash, the close transaction once the chain has
// confirmed it, and how to audit the result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ballotFor, type Voter } from '../../../test/support/fixtures.js';
import { until } from '../../../test/support/wait.js';
import type { Manifest } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';

const E = 'early-close';

let stack: WebStack;
let browser: Browser;
let manifest: Manifest;
let voters: Voter[];
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return page;
}

/**
 * A time as the pages write it (i18n.ts formatDate, English, in the browser's time zone), without the zone
 * name formatDate may add after it: what the page shows contains this.
 */
function shown(page: Page, iso: string): Promise<string> {
  return page.evaluate((t) => new Date(t).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' }), iso);
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ({ manifest, voters } = await stack.election(E, 3, { windowSeconds: 2 }));
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('an early close shown truthfully', () => {
  it('names the actual close time on the voter page and in a late ballot, and the results page shows the close', async () => {
    // A voter gets as far as the review while the election is open.
    const late = await newPage();
    await late.goto(`${stack.url}/?election=${E}`);
    await expect.poll(() => late.locator('#election-summary .badge').textContent()).toBe('Open');
    await late.getByLabel('Private key (64 hexadecimal characters)').fill(voters[1]!.seed.toString('hex'));
    await late.getByRole('button', { name: 'Use this key' }).click();
    await late.getByLabel('Oui').check();
    await late.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => late.locator('#review-list').textContent()).toContain('Oui');

    // One ballot in, then the administrator closes, about a day before the manifest's closesAt.
    await stack.cast(E, voters[0]!);
    const closed = await stack.close(E);
    expect(closed.totalBallots).toBe(1);
    expect(Date.parse(closed.closedAt)).toBeLessThan(Date.parse(manifest.closesAt) - 3600_000);
    const closedAt = await shown(late, closed.closedAt);
    const scheduled = await shown(late, manifest.closesAt);

    // The late ballot: refused, and what the voter reads names the actual close, not the schedule.
    await late.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    const refusal = late.locator('#cast-error:not([hidden]), #step-receipt:not([hidden])');
    await expect.poll(() => refusal.textContent()).toContain(closedAt);
    expect(await refusal.textContent()).not.toContain(scheduled);
    // And the page's summary no longer says Open until the scheduled time: it shows the close.
    await expect.poll(() => late.locator('#election-summary .badge').textContent()).toBe('Closed');
    expect(await late.getByTestId('closed-at').textContent()).toContain(closedAt);
    // The same over HTTP, as any client reads it.
    const res = await fetch(`${stack.url}/api/v1/elections/${E}/ballots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ballotFor(voters[2]!, E)),
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toEqual({
      code: 'election-closed',
      message: `the election closed at ${closed.closedAt}`,
    });

    // The voter page, loaded now: Closed, at the actual time, with the schedule it came before.
    const voter = await newPage();
    await voter.goto(`${stack.url}/?election=${E}`);
    await expect.poll(() => voter.locator('#election-summary .badge').textContent()).toBe('Closed');
    const closedRow = await voter.getByTestId('closed-at').textContent();
    expect(closedRow).toContain(closedAt);
    expect(closedRow).toContain(`(scheduled for ${scheduled}`);
    const note = await voter.getByTestId('closed-note').textContent();
    expect(note).toContain(`closed on ${closedAt}`);
    expect(note).not.toContain(scheduled);
    expect(await voter.locator('#step-credential').isHidden()).toBe(true);

    // The results page: Closed and not Live, the result hash, the close transaction once confirmed.
    const results = await newPage();
    await results.goto(`${stack.url}/results/${E}`);
    await expect.poll(() => results.locator('#status-badge').textContent()).toBe('Closed');
    expect(await results.locator('#live').isVisible()).toBe(false);
    // biome-ignore lint/performance/useDomNodeTextContent: the text shown, without the hidden "Live" element's
    expect(await results.locator('#results').innerText()).not.toMatch(/\bLive\b/);
    expect(await results.getByTestId('result-hash').textContent()).toBe(closed.resultHash);
    const closedShown = await results.getByTestId('closed-at').textContent();
    expect(closedShown).toContain(closedAt);
    expect(closedShown).toContain(scheduled); // "(closed early; scheduled for …)"

    // The anchor worker seals the last window, anchors it and sends closeElection; the API records it.
    const closeTx = await until('the close transaction', async () => {
      const e = await stack.api<{ closeTx: { txHash: string; blockNumber: number } | null }>(`/api/v1/elections/${E}`);
      return e.closeTx;
    });
    // The page reads the election again until the close transaction is there.
    await expect
      .poll(() => results.getByTestId('close-tx').textContent(), { timeout: 30_000 })
      .toContain(closeTx.txHash);
    expect(await results.getByTestId('close-tx').textContent()).toContain(`Block ${closeTx.blockNumber}`);

    // How to audit it: a link to the verifier's commands, and the audit command itself.
    const audit = results.getByTestId('audit-link');
    expect(await audit.getAttribute('href')).toBe('#h-verify');
    const cmd = await results.locator('#close-audit-cmd').textContent();
    expect(cmd).toContain(`npx tallyproof-verify audit --api ${stack.url} --election ${E}`);
    expect(cmd).toContain(`--rpc ${stack.rpcUrl} --contract ${stack.contract}`);
    await audit.click();
    await expect.poll(() => results.evaluate(() => location.hash)).toBe('#h-verify');

    // In French too: Clos, never "En direct".
    await results.getByRole('button', { name: 'Français' }).click();
    await expect.poll(() => results.locator('#status-badge').textContent()).toBe('Clos');
    expect(await results.locator('#h-close').textContent()).toBe('Résultat final');
    // biome-ignore lint/performance/useDomNodeTextContent: the text shown, as above
    expect(await results.locator('#results').innerText()).not.toContain('En direct');

    expect(pageErrors).toEqual([]);
  });
});
