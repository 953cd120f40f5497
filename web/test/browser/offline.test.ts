// Voting offline (#15 item 7) in a real browser against the real stack (stack.ts): the page opens without
// a network after one visit (service worker), a ballot signed offline is kept in IndexedDB and sent when
// the network returns, a device-side resend of the same ballot gets the same receipt and adds nothing to
// the ledger, an answer lost on the way is recovered by resending, and a ballot that reaches the ledger
// after the close is told plainly that it was not counted. The private key is gone from the page once
// the ballot is sent or kept.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Voter } from '../../../test/support/fixtures.js';
import { ballotFor } from '../../../test/support/fixtures.js';
import { ballotHash, type Receipt } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, launchChromium } from './browser.js';
import { ADMIN_TOKEN, startWebStack, type WebStack } from './stack.js';

const E = 'offline-vote';
const LATE = 'offline-late';

let stack: WebStack;
let browser: Browser;
let voters: Voter[];
let lateVoters: Voter[];
const contexts: BrowserContext[] = [];
let cspViolations: string[] = [];
let pageErrors: string[] = [];

async function newContext(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  contexts.push(context);
  await context.exposeBinding('reportCspViolation', (_source, text: string) => {
    cspViolations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { reportCspViolation(text: string): void }).reportCspViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} on ${e.documentURI}`);
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return { context, page };
}

/** The first visit, online: the page loads the election and its service worker takes the page over. */
async function firstVisit(page: Page, electionId: string): Promise<void> {
  await page.goto(`${stack.url}/?election=${electionId}`);
  await expect.poll(() => page.locator('#election-summary h3').textContent()).toContain(`Test election ${electionId}`);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  // The election fetched before the worker controlled the page is handed to it: wait until it is cached.
  await page.waitForFunction(async (id) => (await caches.match(`/api/v1/elections/${id}`)) !== undefined, electionId);
}

/** Paste the key, choose Oui and Ana, review: the page is ready to cast. */
async function fillBallot(page: Page, v: Voter): Promise<void> {
  await page.getByLabel('Private key (64 hexadecimal characters)').fill(v.seed.toString('hex'));
  await page.getByRole('button', { name: 'Use this key' }).click();
  await expect.poll(() => page.locator('#cred-public').textContent()).toBe(v.credential);
  await page.getByLabel('Oui').check();
  await page.getByLabel('Ana').check();
  await page.getByRole('button', { name: 'Review my ballot' }).click();
  await expect.poll(() => page.locator('#review-list').textContent()).toContain('Ana');
}

/** What IndexedDB holds: the outbox (signed ballots) and the receipts. */
async function deviceStore(page: Page): Promise<{ outbox: any[]; receipts: any[] }> {
  return page.evaluate(
    () =>
      new Promise<{ outbox: any[]; receipts: any[] }>((resolve, reject) => {
        const req = indexedDB.open('tallyproof-voter');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction(['outbox', 'receipts'], 'readonly');
          const o = tx.objectStore('outbox').getAll();
          const r = tx.objectStore('receipts').getAll();
          tx.oncomplete = () => {
            db.close();
            resolve({ outbox: o.result, receipts: r.result });
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
}

/** Put a signed ballot back into the device's outbox, as if its answer had never come. */
async function putBack(page: Page, entry: unknown): Promise<void> {
  await page.evaluate(
    (e) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('tallyproof-voter');
        req.onsuccess = () => {
          const tx = req.result.transaction('outbox', 'readwrite');
          tx.objectStore('outbox').put(e);
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
        req.onerror = () => reject(req.error);
      }),
    entry,
  );
}

/** No private key left in the page's inputs. */
async function expectKeyCleared(page: Page): Promise<void> {
  expect(await page.locator('#seed-input').inputValue()).toBe('');
  expect(await page.locator('#secret-input').inputValue()).toBe('');
  expect(await page.locator('#cred-loaded').isHidden()).toBe(true);
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  ({ voters } = await stack.election(E, 3, { windowSeconds: 2 }));
  ({ voters: lateVoters } = await stack.election(LATE, 2, { windowSeconds: 2 }));
});

afterEach(() => {
  const seen = [...cspViolations, ...pageErrors];
  cspViolations = [];
  pageErrors = [];
  expect(seen, 'CSP violations and page errors').toEqual([]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('voting offline', () => {
  it('opens offline after one visit, keeps a ballot signed offline, sends it when the network returns; a resend is harmless', async () => {
    const { context, page } = await newContext();
    await firstVisit(page, E);

    // The network goes: the page and the election still open (service worker), and the page knows it.
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => page.locator('#election-summary h3').textContent()).toContain(`Test election ${E}`);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);

    const v = voters[0]!;
    await fillBallot(page, v);
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect
      .poll(() => page.getByTestId('saved-offline').textContent())
      .toContain('Your ballot is signed and saved on this device.');
    expect(await page.getByTestId('saved-offline').textContent()).toContain('you are offline');
    await expectKeyCleared(page);

    // In IndexedDB: the signed ballot exactly as it will be POSTed, and nothing else of the voter's.
    const expected = ballotFor(v, E, { q1: ['oui'], council: ['ana'] });
    const hash = ballotHash(expected).toString('hex');
    const saved = await deviceStore(page);
    expect(saved.outbox).toHaveLength(1);
    expect(saved.outbox[0].ballotHash).toBe(hash);
    expect(saved.outbox[0].submission).toEqual(expected);
    expect(JSON.stringify(saved)).not.toContain(v.seed.toString('hex'));
    expect(saved.receipts).toEqual([]);
    await expect.poll(() => page.getByTestId('outbox-waiting').count()).toBe(1);
    // Nothing reached the ledger.
    expect((await stack.api<{ totalBallots: number }>(`/api/v1/elections/${E}/results`)).totalBallots).toBe(0);

    // The network returns: the ballot is sent by itself and its receipt replaces the "saved" notice.
    await context.setOffline(false);
    await expect
      .poll(() => page.locator('#receipt-box').textContent(), { timeout: 30_000 })
      .toContain('Your ballot was recorded.');
    expect(await page.getByTestId('receipt-hash').textContent()).toBe(hash);
    const after = await deviceStore(page);
    expect(after.outbox).toEqual([]);
    expect(after.receipts.map((r) => r.ballotHash)).toEqual([hash]);
    const receipt = after.receipts[0].receipt as Receipt;
    expect(await page.getByTestId('device-receipt').count()).toBe(1);

    // A device-side retry of the same signed ballot (its answer taken for lost): the same receipt, no error.
    await putBack(page, saved.outbox[0]);
    await page.reload(); // the outbox is sent on load
    await expect.poll(async () => (await deviceStore(page)).outbox.length, { timeout: 30_000 }).toBe(0);
    const again = await deviceStore(page);
    expect(again.receipts).toHaveLength(1);
    expect(again.receipts[0].receipt).toEqual(receipt);
    expect(await page.locator('[data-testid^="outbox-"]').count()).toBe(0);
    const results = await stack.api<{ totalBallots: number }>(`/api/v1/elections/${E}/results`);
    expect(results.totalBallots).toBe(1);

    // The receipt kept on the device is checked against the chain once its window is anchored.
    await expect
      .poll(() => page.getByTestId('device-proof').getAttribute('data-state'), { timeout: 60_000 })
      .toBe('verified');
    expect(await page.getByTestId('device-proof').textContent()).toContain('proof verified on chain');
  });

  it('recovers a receipt whose answer was lost: the ballot waits on the device, "Send now" gets the original receipt', async () => {
    const { page } = await newContext();
    await firstVisit(page, E);
    const v = voters[1]!;
    await fillBallot(page, v);
    // The POST reaches the ledger, but its answer never reaches the page.
    let reached = 0;
    await page.route('**/api/v1/elections/*/ballots', async (route) => {
      const res = await route.fetch();
      if (res.status() === 201) reached++;
      await route.abort('connectionreset');
    });
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.getByTestId('saved-offline').textContent()).toContain('saved on this device');
    expect(reached).toBe(1);
    await expectKeyCleared(page);
    expect((await deviceStore(page)).outbox).toHaveLength(1);

    await page.unroute('**/api/v1/elections/*/ballots');
    await page.getByRole('button', { name: 'Send now' }).first().click();
    await expect
      .poll(() => page.locator('#receipt-box').textContent(), { timeout: 30_000 })
      .toContain('This ballot had already been recorded; here is its receipt again.');
    const hash = ballotHash(ballotFor(v, E, { q1: ['oui'], council: ['ana'] })).toString('hex');
    expect(await page.getByTestId('receipt-hash').textContent()).toBe(hash);
    const store = await deviceStore(page);
    expect(store.outbox).toEqual([]);
    expect(store.receipts.map((r) => r.ballotHash)).toEqual([hash]);
    expect((await stack.api<{ totalBallots: number }>(`/api/v1/elections/${E}/results`)).totalBallots).toBe(2);
  });

  it('tells the voter plainly when a ballot signed offline reached the ledger after the close', async () => {
    const { context, page } = await newContext();
    await firstVisit(page, LATE);
    await context.setOffline(true);
    await fillBallot(page, lateVoters[0]!);
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.getByTestId('saved-offline').count()).toBe(1);

    // The election closes while the device is offline.
    const res = await fetch(`${stack.url}/api/v1/elections/${LATE}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);

    await context.setOffline(false);
    await expect
      .poll(() => page.getByTestId('late').textContent(), { timeout: 30_000 })
      .toContain('before your ballot reached the ballot box; it was not counted.');
    expect(await page.getByTestId('late').textContent()).toContain('Your ballot was not counted.');
    // Kept on the device as an answer (without the vote), listed under "On this device".
    const store = await deviceStore(page);
    expect(store.outbox).toHaveLength(1);
    expect(store.outbox[0].submission).toBeNull();
    expect(store.outbox[0].answer.kind).toBe('late');
    expect(store.receipts).toEqual([]);
    await expect.poll(() => page.getByTestId('outbox-late').count()).toBe(1);
  });
});
