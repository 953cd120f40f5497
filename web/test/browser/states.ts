// Every state of the voter and results pages, reached the way a voter reaches it, for the checks that run
// on each of them: axe-core (a11y.test.ts) and the screenshots in docs/screenshots/ (screenshots.ts).
// `prepareStates` creates the elections on a real stack (web/test/browser/stack.ts); `walkStates` drives a
// page at one viewport through every state and calls `visit` at each, with the page settled.
import { expect } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Voter } from '../../../test/support/fixtures.js';
import { until } from '../../../test/support/wait.js';
import type { Manifest, Receipt } from '../../../ledger/src/protocol/protocol.js';
import { ADMIN_TOKEN, type WebStack } from './stack.js';

/** The open election every voter state uses, and one closed before the walk. */
export const OPEN = 'city-vote';
export const CLOSED = 'closed-vote';
/** Each walk's own election, closed while a ballot waits offline on the device (the late ballot). */
let lateElections = 0;

/** The page states, in the order `walkStates` visits them; the screenshots are named `<page>-<state>`. */
export const STATES = [
  'voter-start',
  'voter-election',
  'voter-credential',
  'voter-choices-errors',
  'voter-review',
  'voter-receipt',
  'voter-check-anchored',
  'voter-check-failed',
  'voter-not-on-roll',
  'voter-already-voted',
  'voter-offline-saved',
  'voter-device-receipts',
  'voter-late',
  'voter-closed',
  'results-pick',
  'results-live',
  'results-closed',
] as const;
export type StateName = (typeof STATES)[number];

export interface Viewport {
  name: 'desktop' | 'phone';
  width: number;
  height: number;
}

export interface StatesContext {
  stack: WebStack;
  manifest: Manifest;
  /** Voters of OPEN who have not voted yet; each walk takes its own. */
  fresh: Voter[];
  /** A receipt of OPEN whose inclusion proof has an audit path to alter (the failed check). */
  tamperable: string;
}

interface Bundle {
  receipt: Receipt;
  status: string;
  inclusion?: { auditPath: string[] };
}

async function anchored(stack: WebStack, hash: string): Promise<Bundle> {
  return until(
    `${hash} anchored`,
    async () => {
      const b = await stack.api<Bundle>(`/api/v1/receipts/${hash}`);
      return b.status === 'anchored' && b;
    },
    60_000,
  );
}

/**
 * The elections: OPEN (2 s windows, some ballots already in; two fresh voters per walk), CLOSED (ballots in,
 * one of them blank in the council, then closed early by the administrator).
 */
export async function prepareStates(stack: WebStack): Promise<StatesContext> {
  const { manifest, voters } = await stack.election(OPEN, 16, { windowSeconds: 2 });
  // Three ballots at once land in one window (or two): one of them has an audit path to alter.
  const receipts = await Promise.all(
    voters.slice(0, 3).map((v, i) => stack.cast(OPEN, v, { q1: [i % 2 ? 'oui' : 'non'], council: ['bo'] })),
  );
  const bundles = await Promise.all(receipts.map((r) => anchored(stack, r.ballotHash)));
  const target = bundles.find((b) => (b.inclusion?.auditPath.length ?? 0) > 0);
  if (!target) throw new Error('no window with more than one ballot');

  const closed = await stack.election(CLOSED, 2, { windowSeconds: 2 });
  await stack.cast(CLOSED, closed.voters[0]!, { q1: ['oui'], council: ['ana', 'chloe'] });
  await stack.cast(CLOSED, closed.voters[1]!, { q1: ['non'], council: [] });
  const res = await fetch(`${stack.url}/api/v1/elections/${CLOSED}/close`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (res.status !== 202) throw new Error(`close ${CLOSED}: ${res.status} ${await res.text()}`);

  return { stack, manifest, fresh: voters.slice(3), tamperable: target.receipt.ballotHash };
}

/** How long a page may take to show a state on a busy machine (two cores shared by the stack and the browser). */
const SETTLE = { timeout: 15_000 };

export type Visit = (state: StateName, page: Page) => Promise<void>;

/** A fresh browser context at the viewport (English, as on the screenshots). */
export async function openPage(browser: Browser, viewport: Viewport): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    locale: 'en-GB',
    timezoneId: 'Europe/Zurich',
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return { context, page };
}

/** No focus ring and no running animation in what is checked or photographed. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

/** Load a credential by its seed (the "paste" way). */
async function useSeed(page: Page, v: Voter): Promise<void> {
  await page.getByLabel('Private key (64 hexadecimal characters)').fill(v.seed.toString('hex'));
  await page.getByRole('button', { name: 'Use this key' }).click();
  await expect.poll(() => page.locator('#cred-public').textContent(), SETTLE).toBe(v.credential);
}

/** Paste the key, choose Oui and Ana, review: the page is ready to cast. */
async function fillBallot(page: Page, v: Voter): Promise<void> {
  await useSeed(page, v);
  await page.getByLabel('Oui').check();
  await page.getByLabel('Ana').check();
  await page.getByRole('button', { name: 'Review my ballot' }).click();
  await expect.poll(() => page.locator('#step-review').isVisible(), SETTLE).toBe(true);
}

/** The first visit, online: the page loads the election and its service worker takes the page over. */
async function firstVisit(page: Page, ctx: StatesContext, id: string): Promise<void> {
  await openElectionFromUrl(page, ctx, id);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, SETTLE);
  // The election fetched before the worker controlled the page is handed to it: wait until it is cached.
  await page.waitForFunction(async (e) => (await caches.match(`/api/v1/elections/${e}`)) !== undefined, id, SETTLE);
}

async function openElectionFromUrl(page: Page, ctx: StatesContext, id: string): Promise<void> {
  await page.goto(`${ctx.stack.url}/?election=${id}`);
  await expect.poll(() => page.locator('#election-summary h3').textContent(), SETTLE).toContain(`Test election ${id}`);
}

/** Every state of both pages at one viewport, `visit` called at each (in the order of STATES). */
export async function walkStates(
  browser: Browser,
  ctx: StatesContext,
  viewport: Viewport,
  visit: Visit,
): Promise<void> {
  const at = async (state: StateName, page: Page): Promise<void> => {
    await settle(page);
    await visit(state, page);
  };
  const [voter, offlineVoter] = ctx.fresh.splice(0, 2);
  if (!voter || !offlineVoter) throw new Error('no fresh voter left');
  // Registered while the first states are walked; awaited (and its failure seen) at the late ballot.
  const late = ctx.stack.election(`late-vote-${++lateElections}`, 1, { windowSeconds: 2 });
  late.catch(() => {});
  const contexts: BrowserContext[] = [];
  const open = async (): Promise<Page> => {
    const { context, page } = await openPage(browser, viewport);
    contexts.push(context);
    return page;
  };
  try {
    // One voter from the empty page to the verified receipt.
    const page = await open();
    await page.goto(`${ctx.stack.url}/`);
    await expect.poll(() => page.locator('h1').textContent(), SETTLE).toBe('Cast your ballot');
    await at('voter-start', page);

    await page.getByLabel('Election identifier').fill(OPEN);
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await expect.poll(() => page.locator('#step-credential').isVisible(), SETTLE).toBe(true);
    await at('voter-election', page);

    await useSeed(page, voter);
    await at('voter-credential', page);

    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#choices-error').isVisible(), SETTLE).toBe(true);
    await at('voter-choices-errors', page);

    await page.getByLabel('Oui').check();
    await page.getByLabel('Ana').check();
    await page.getByLabel('Chloé').check();
    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#step-review').isVisible(), SETTLE).toBe(true);
    await at('voter-review', page);

    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.locator('#receipt-box').textContent(), SETTLE).toContain('Your ballot was recorded.');
    await at('voter-receipt', page);

    await page.getByRole('button', { name: 'Check my receipt now' }).click();
    await expect
      .poll(() => page.getByTestId('check-outcome').textContent(), { timeout: 60_000, interval: 500 })
      .toContain('Verified');
    await at('voter-check-anchored', page);

    // A proof altered on its way (page.route): the check names the failing step.
    const tampered = await open();
    await tampered.route(`**/api/v1/receipts/${ctx.tamperable}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Bundle;
      const p = body.inclusion!.auditPath;
      p[0] = p[0]!.slice(0, -1) + (p[0]!.endsWith('0') ? '1' : '0');
      await route.fulfill({ response, json: body });
    });
    await tampered.goto(`${ctx.stack.url}/?election=${OPEN}&receipt=${ctx.tamperable}#check`);
    await expect
      .poll(() => tampered.getByTestId('check-outcome').textContent(), { timeout: 20_000 })
      .toContain('Verification FAILED');
    await at('voter-check-failed', tampered);

    // A mistyped voter secret: its derived key is on no roll, and the voter is told so before any choice.
    const dup = await open();
    await openElectionFromUrl(dup, ctx, OPEN);
    await dup.getByLabel('Derive it from my voter secret').check();
    await dup.getByLabel('Voter secret', { exact: true }).fill('tulip-4417 harbour 09');
    await dup.getByRole('button', { name: 'Derive my credential' }).click();
    await expect.poll(() => dup.locator('#cred-error').textContent(), { timeout: 60_000 }).toContain('may be mistyped');
    await at('voter-not-on-roll', dup);

    // The same credential again, from another browser: refused, with the first receipt.
    await dup.getByLabel('Paste my private key').check();
    await useSeed(dup, voter);
    await dup.getByLabel('Non').check();
    await dup.getByRole('button', { name: 'Review my ballot' }).click();
    await dup.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect
      .poll(() => dup.locator('#receipt-box').textContent(), SETTLE)
      .toContain('This credential has already voted.');
    await at('voter-already-voted', dup);

    // A ballot cast offline (the service worker installed by a first visit online) waits on the device, then
    // is sent when the network returns; its receipt is kept on the device and its proof checked on chain.
    const { context: device, page: offline } = await openPage(browser, viewport);
    contexts.push(device);
    await firstVisit(offline, ctx, OPEN);
    await device.setOffline(true);
    await fillBallot(offline, offlineVoter);
    await offline.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => offline.getByTestId('saved-offline').count(), SETTLE).toBe(1);
    await expect.poll(() => offline.getByTestId('outbox-waiting').count(), SETTLE).toBe(1);
    await at('voter-offline-saved', offline);

    await device.setOffline(false);
    await expect
      .poll(() => offline.locator('#receipt-box').textContent(), { timeout: 30_000 })
      .toContain('Your ballot was recorded.');
    await expect
      .poll(() => offline.getByTestId('device-proof').getAttribute('data-state'), { timeout: 60_000 })
      .toBe('verified');
    await at('voter-device-receipts', offline);

    // A ballot saved offline while the election closes: when it reaches the ledger, it was not counted.
    const { manifest: lateManifest, voters: lateVoters } = await late;
    const { context: lateDevice, page: latePage } = await openPage(browser, viewport);
    contexts.push(lateDevice);
    await firstVisit(latePage, ctx, lateManifest.electionId);
    await lateDevice.setOffline(true);
    await fillBallot(latePage, lateVoters[0]!);
    await latePage.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => latePage.getByTestId('saved-offline').count(), SETTLE).toBe(1);
    await ctx.stack.close(lateManifest.electionId);
    await lateDevice.setOffline(false);
    await expect
      .poll(() => latePage.getByTestId('late').textContent(), { timeout: 30_000 })
      .toContain('it was not counted');
    await expect.poll(() => latePage.getByTestId('outbox-late').count(), SETTLE).toBe(1);
    await at('voter-late', latePage);

    const closed = await open();
    await openElectionFromUrl(closed, ctx, CLOSED);
    await at('voter-closed', closed);

    const results = await open();
    await results.goto(`${ctx.stack.url}/results/`);
    await expect.poll(() => results.locator('#pick-form').isVisible(), SETTLE).toBe(true);
    await at('results-pick', results);

    await results.goto(`${ctx.stack.url}/results/${OPEN}`);
    await expect.poll(() => results.locator('#live').textContent(), SETTLE).toBe('Live');
    await expect.poll(() => results.locator('#total').textContent(), SETTLE).not.toBe('0');
    await expect.poll(() => results.locator('.on-chain .chain-ok').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await at('results-live', results);

    // Closed early, the close transaction confirmed: the close card with its details open, and the council's
    // blank ballot in its own row.
    await results.goto(`${ctx.stack.url}/results/${CLOSED}`);
    await expect.poll(() => results.locator('#total').textContent(), SETTLE).toBe('2');
    await expect.poll(() => results.locator('.on-chain .chain-ok').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => results.locator('[data-blank="council"]').isVisible(), SETTLE).toBe(true);
    await expect
      .poll(() => results.getByTestId('close-on-chain').textContent(), { timeout: 60_000 })
      .toBe('recorded: the result can no longer change');
    expect(await results.getByTestId('closed-at').textContent()).toContain('closed early');
    await results.locator('#close-details details > summary').click();
    await expect.poll(() => results.getByTestId('close-tx').isVisible(), SETTLE).toBe(true);
    await at('results-closed', results);
  } finally {
    for (const c of contexts) await c.close().catch(() => {});
  }
}
