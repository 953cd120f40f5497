// "Check my receipt" from tiles (#18), in Chromium against the real stack (stack.ts: PostgreSQL, anvil with
// TallyAnchor, the anchor worker with 2 s windows, the API serving web/dist and the windows' tiles). By default the
// page computes the audit path itself from the API's tiles and says so; with `?tiles=` it reads them from a "CDN"
// (an HTTP server on another port relaying the API's tile paths, with CORS), and with the receipt file it verifies
// while the API's proof route is down; a tile altered on the way fails the check at the step that reads it.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Receipt } from '../../../ledger/src/protocol/protocol.js';
import { until } from '../../../test/support/wait.js';
import { DESKTOP, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';

const E = 'tiles-check';

interface Bundle {
  receipt: Receipt;
  status: string;
  window?: { index: number; firstSeq: number; count: number };
}

let stack: WebStack;
let browser: Browser;
let bundles: Bundle[];
let cdn: { base: string; requests: string[]; server: Server };
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return page;
}

/** The check's steps as shown (under "Details"). */
const steps = (page: Page) => page.locator('#check-result ul.checks li').allTextContents();

/** A CDN: `/mirror/{id}/…` relays the API's `/api/v1/elections/{id}/…`, with CORS, recording each path. */
async function startCdn(origin: string): Promise<typeof cdn> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/mirror\//, '');
    requests.push(path);
    void fetch(`${origin}/api/v1/elections/${path}`)
      .then(async (upstream) => {
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
          'access-control-allow-origin': '*',
        });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      })
      .catch((err: Error) => {
        res.writeHead(502);
        res.end(err.message);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror/`, requests, server };
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  cdn = await startCdn(stack.url);
  const { voters } = await stack.election(E, 4, { windowSeconds: 2 });
  // Cast together, so that (at least) one window holds several ballots and its proofs have siblings.
  const receipts = await Promise.all(voters.map((v) => stack.cast(E, v)));
  bundles = await Promise.all(
    receipts.map((r) =>
      until(
        `anchoring of ${r.ballotHash}`,
        async () => {
          const b = await stack.api<Bundle>(`/api/v1/receipts/${r.ballotHash}`);
          return b.status === 'anchored' ? b : null;
        },
        60_000,
      ),
    ),
  );
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await new Promise((resolve) => cdn?.server.close(resolve));
  await stack?.stop();
});

/** The receipt of a window with the most ballots (its audit path is not empty). */
const crowded = () => bundles.reduce((a, b) => ((b.window?.count ?? 0) > (a.window?.count ?? 0) ? b : a));

describe('checking a receipt from tiles', () => {
  it('computes the proof from the API’s tiles by default, and says so', async () => {
    const b = crowded();
    const page = await newPage();
    const tileRequests: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/tile/')) tileRequests.push(req.url());
    });
    await page.goto(`${stack.url}/?election=${E}&receipt=${b.receipt.ballotHash}`);
    const outcome = page.getByTestId('check-outcome');
    await expect.poll(() => outcome.textContent(), { timeout: 30_000 }).toContain('Verified');
    const shown = await steps(page);
    expect(shown).toContain(
      `Proof computed by this page from the window’s tiles at ${stack.url}/api/v1/elections/, not taken from the server`,
    );
    expect(shown).toContain(
      `The tiles hold your ballot at leaf ${b.receipt.seq - b.window!.firstSeq} of window ${b.window!.index}`,
    );
    expect(shown).toContain('Proof computed from the tiles leads to the root anchored on chain');
    // The server's own proof is checked too.
    expect(shown).toContain('Proof leads to the root anchored on chain');
    expect(tileRequests.length).toBeGreaterThan(0);
    for (const u of tileRequests)
      expect(u.startsWith(`${stack.url}/api/v1/elections/${E}/windows/${b.window!.index}/tile/0/`)).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('reads the tiles from a CDN given by ?tiles=, and verifies a receipt file while the API’s proofs are down', async () => {
    const b = crowded();
    const page = await newPage();
    await page.route('**/api/v1/receipts/**', (route) => route.abort('connectionrefused'));
    const apiTiles: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(stack.url) && req.url().includes('/tile/')) apiTiles.push(req.url());
    });
    cdn.requests.length = 0;
    await page.goto(`${stack.url}/?election=${E}&tiles=${encodeURIComponent(cdn.base)}#check`);
    await expect.poll(() => page.locator('#tiles-url').inputValue()).toBe(cdn.base);
    await page.locator('#check-file').setInputFiles({
      name: 'receipt.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(b.receipt)),
    });
    await expect
      .poll(() => page.getByLabel('Receipt hash (64 hexadecimal characters)').inputValue())
      .toBe(b.receipt.ballotHash);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    const outcome = page.getByTestId('check-outcome');
    await expect.poll(() => outcome.textContent(), { timeout: 30_000 }).toContain('Verified');
    const shown = await steps(page);
    expect(shown.some((s) => s.startsWith('The server gave no proof bundle'))).toBe(true);
    expect(shown).toContain(
      `Proof computed by this page from the window’s tiles at ${cdn.base}, not taken from the server`,
    );
    expect(shown).toContain('Proof computed from the tiles leads to the root anchored on chain');
    expect(cdn.requests.length).toBeGreaterThan(0);
    for (const p of cdn.requests) expect(p.startsWith(`${E}/windows/${b.window!.index}/tile/`)).toBe(true);
    expect(apiTiles).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('fails on a tile altered on its way, naming the step', async () => {
    const b = crowded();
    expect(b.window!.count, 'a window of several ballots').toBeGreaterThan(1);
    const leaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(b.receipt.ballotHash, 'hex')]))
      .digest();
    const page = await newPage();
    // Every hash of the level-0 tile but the ballot's own is changed: its siblings no longer give the root.
    await page.route('**/tile/0/**', async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      for (let at = 0; at < body.length; at += 32) if (!body.subarray(at, at + 32).equals(leaf)) body[at]! ^= 0x01;
      await route.fulfill({ response, body });
    });
    await page.goto(`${stack.url}/?election=${E}&receipt=${b.receipt.ballotHash}`);
    const outcome = page.getByTestId('check-outcome');
    await expect.poll(() => outcome.textContent(), { timeout: 30_000 }).toContain('Verification FAILED');
    expect(await outcome.textContent()).toContain(
      `the proof computed from the tiles does not lead to the root anchored on chain for window ${b.window!.index}`,
    );
    expect(await page.locator('#check-result ul.checks li.bad').allTextContents()).toEqual([
      'Proof computed from the tiles leads to the root anchored on chain',
    ]);
  });
});
