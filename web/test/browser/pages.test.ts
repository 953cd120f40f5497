// The voter and results pages in a real browser (Chromium via playwright-core) against a real stack:
// PostgreSQL, anvil with TallyAnchor, the anchor worker (windows of 2 s) and the API serving web/dist.
// The screenshots in docs/screenshots/ are `npm run screenshots`' (screenshots.ts). Every page runs under the
// Content-Security-Policy the API sends, and any violation it reports fails the test.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ballotFor, type Voter } from '../../../test/support/fixtures.js';
import { HOSTILE_CONTESTS, hostileSelections } from '../../../test/support/hostile-ids.js';
import { ballotHash, deriveCredential, type Manifest, type Receipt } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, PHONE, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';

const E = 'spring-vote';
const SECRET = '1 85 05 78 006 048 22|A7K-93Q';

let stack: WebStack;
let browser: Browser;
let manifest: Manifest;
let voters: Voter[];
let derived: { seed: Buffer; publicKey: Buffer };
let firstReceipt: Receipt;
const contexts: BrowserContext[] = [];
/** CSP violations the pages reported (securitypolicyviolation events and console errors), per test. */
let cspViolations: string[] = [];

interface Bundle {
  receipt: Receipt;
  status: string;
  window?: { index: number; count: number };
  inclusion?: { auditPath: string[] };
  anchor?: { txHash: string; blockNumber: number };
}

async function newPage(opts: { viewport?: { width: number; height: number }; locale?: string } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? DESKTOP,
    locale: opts.locale ?? 'en-GB',
    acceptDownloads: true,
  });
  contexts.push(context);
  await context.exposeBinding('reportCspViolation', (_source, text: string) => {
    cspViolations.push(text);
  });
  // Every document of the context reports what its CSP blocked (a DevTools-injected script, not inline).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { reportCspViolation(text: string): void }).reportCspViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} on ${e.documentURI}`);
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

/** Types the RPC URL under "Chain settings", as a voter would when the server publishes none (here it does: the same URL). */
async function setRpcUrl(page: Page): Promise<void> {
  const settings = page.locator('#chain-settings');
  if (!(await settings.evaluate((d: HTMLDetailsElement) => d.open))) await settings.locator('summary').click();
  await page.locator('#rpc-url').fill(stack.rpcUrl);
  await page.locator('#rpc-url').press('Tab');
}

async function waitAnchored(hash: string): Promise<Bundle> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const b = await stack.api<Bundle>(`/api/v1/receipts/${hash}`);
    if (b.status === 'anchored') return b;
    if (Date.now() > deadline) throw new Error(`${hash} not anchored after 60 s (${b.status})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every visible form control has an accessible label. */
async function expectLabelled(page: Page): Promise<void> {
  const unlabelled = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement>('input, select, textarea'))
      .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
      .filter(
        (el) => (el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'),
      )
      .map((el) => el.id || el.outerHTML.slice(0, 80)),
  );
  expect(unlabelled).toEqual([]);
}

/**
 * Each results row keeps its count and percentage on one line at the right of its label, on the label's first
 * line (the label may wrap, the count never goes to a line of its own).
 */
async function expectCountsBesideLabels(page: Page): Promise<void> {
  const rows = await page.locator('ol.bars li').evaluateAll((items) =>
    items.map((li) => {
      const row = li.querySelector('.bar-label')!.getBoundingClientRect();
      const name = li.querySelector('.name')!;
      const count = li.querySelector('.count')!;
      const range = document.createRange();
      range.selectNodeContents(count);
      const countLines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
      const n = name.getBoundingClientRect();
      const c = count.getBoundingClientRect();
      return {
        choice: (li as HTMLElement).dataset.choice,
        countLines,
        besideName: c.left >= n.right - 0.5 && c.top < n.top + c.height,
        atRight: Math.abs(c.right - row.right) < 1,
      };
    }),
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(r, r.choice).toMatchObject({ countLines: 1, besideName: true, atRight: true });
}

beforeAll(async () => {
  [stack, browser, derived] = await Promise.all([startWebStack(), launchChromium(), deriveCredential(SECRET, E)]);
  ({ manifest, voters } = await stack.election(E, 6, {
    windowSeconds: 2,
    extraCredentials: [derived.publicKey.toString('hex')],
  }));
});

afterEach(() => {
  const seen = cspViolations;
  cspViolations = [];
  expect(seen, 'CSP violations').toEqual([]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('voter page and results page', () => {
  it('casts a ballot in the page, shows a signed receipt, then sees it anchored and verified on chain while the results page updates', async () => {
    // The results page is open first and follows the stream.
    const results = await newPage();
    await results.goto(`${stack.url}/results/${E}`);
    await expect.poll(() => results.locator('h1').textContent()).toBe(manifest.title);
    await expect.poll(() => results.locator('#live').textContent()).toBe('Live');
    expect(await results.locator('#total').textContent()).toBe('0');
    // The chain settings come prefilled from the election (chainRpcUrl, contract): nothing in this fresh
    // browser context's localStorage.
    expect(await results.locator('#rpc-url').inputValue()).toBe(stack.rpcUrl);
    expect(await results.locator('#contract-address').inputValue()).toBe(stack.contract);

    const page = await newPage();
    await page.goto(`${stack.url}/?election=${E}`);
    await expect.poll(() => page.locator('#election-summary h3').textContent()).toContain(manifest.title);
    expect((await stack.api<{ chainRpcUrl: string | null }>(`/api/v1/elections/${E}`)).chainRpcUrl).toBe(stack.rpcUrl);
    await expect.poll(() => page.locator('#rpc-url').inputValue()).toBe(stack.rpcUrl);
    expect(await page.locator('#contract-address').inputValue()).toBe(stack.contract);
    expect(await page.locator('#election-summary .badge').textContent()).toBe('Open');

    // Credential: the pasted seed.
    const v = voters[0]!;
    await page.getByLabel('Private key (64 hexadecimal characters)').fill(v.seed.toString('hex'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => page.locator('#cred-public').textContent()).toBe(v.credential);

    // The manifest's rules: q1 needs one choice (min 1) before review; council allows two at most.
    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#choices-error').textContent()).toContain('choose at least 1');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('contest-q1');
    await page.getByLabel('Oui').check();
    await page.getByLabel('Ana').check();
    await page.getByLabel('Bo').check();
    expect(await page.getByLabel('Chloé').isDisabled()).toBe(true);
    await page.getByLabel('Bo').uncheck();
    expect(await page.getByLabel('Chloé').isDisabled()).toBe(false);
    await page.getByLabel('Bo').check();
    await expectLabelled(page);

    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#review-list').textContent()).toContain('Ana, Bo');
    expect(await page.locator('#review-list').textContent()).toContain('Oui');
    await setRpcUrl(page);

    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.locator('#receipt-box').textContent()).toContain('Your ballot was recorded.');
    expect(await page.locator('#receipt-box').textContent()).toContain(
      'The receipt is signed by the ledger key of this election.',
    );
    // The page signed exactly what the reference implementation signs (Ed25519 is deterministic).
    const expectedHash = ballotHash(ballotFor(v, E, { q1: ['oui'], council: ['ana', 'bo'] })).toString('hex');
    expect(await page.getByTestId('receipt-hash').textContent()).toBe(expectedHash);

    // The receipt as a JSON file.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my receipt (JSON)' }).click(),
    ]);
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Receipt;
    firstReceipt = (await stack.api<Bundle>(`/api/v1/receipts/${expectedHash}`)).receipt;
    expect(file).toEqual(firstReceipt);
    expect(download.suggestedFilename()).toBe(`tallyproof-receipt-${expectedHash.slice(0, 12)}.json`);

    // The results page counted it, from the stream.
    await expect.poll(() => results.locator('#total').textContent(), { timeout: 10_000 }).toBe('1');
    expect(await results.locator('[data-choice="q1/oui"]').getAttribute('data-count')).toBe('1');
    expect(await results.locator('[data-choice="council/bo"]').getAttribute('data-count')).toBe('1');
    expect(await results.locator('[data-choice="q1/non"]').getAttribute('data-count')).toBe('0');

    // Check: pending or sealed first, then anchored and verified against the root read from the chain.
    await page.getByRole('button', { name: 'Check my receipt now' }).click();
    const outcome = page.getByTestId('check-outcome');
    await expect
      .poll(() => outcome.textContent(), { timeout: 60_000, interval: 500 })
      .toContain('Verified: your ballot is in the tree whose root is anchored on chain.');
    const bundle = await waitAnchored(expectedHash);
    expect(await page.getByTestId('anchor-tx').textContent()).toBe(bundle.anchor!.txHash);
    const checks = await page.locator('#check-result ul.checks li').allTextContents();
    expect(checks).toContain('Proof leads to the root anchored on chain');
    expect(
      checks.some((c) =>
        c.startsWith(`Anchoring transaction ${bundle.anchor!.txHash} in block ${bundle.anchor!.blockNumber}`),
      ),
    ).toBe(true);
    expect(await page.locator('#check-result .badge').textContent()).toBe('anchored');

    // The results page shows the anchored ballot and the window, its root looked up on chain.
    await expect.poll(() => results.locator('#anchored').textContent(), { timeout: 20_000 }).toBe('1');
    await setRpcUrl(results);
    const w0 = results.locator(`[data-window="${bundle.window!.index}"]`);
    await expect.poll(() => w0.locator('.on-chain').textContent(), { timeout: 20_000 }).toBe('same root on chain ✓');
    expect(await w0.textContent()).toContain(bundle.anchor!.txHash);
    expect(await results.locator('#verify-cmd').textContent()).toContain(`npx tallyproof-verify audit`);
    await expectLabelled(results);
  });

  it('refuses a second ballot of the same credential (loaded from a credentials file) with the attempt count', async () => {
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${E}`);
    await page.getByLabel('Open my credentials file').check();
    const lines =
      voters
        .slice(0, 3)
        .map((v) => JSON.stringify({ credential: v.credential, seed: v.seed.toString('hex') }))
        .join('\n') + '\n';
    await page
      .getByLabel('Credentials file (one JSON line per voter)')
      .setInputFiles({ name: 'credentials.jsonl', mimeType: 'application/json', buffer: Buffer.from(lines) });
    await page.getByLabel('Credential in the file').selectOption({ index: 0 });
    await page.getByRole('button', { name: 'Use this line' }).click();
    await expect.poll(() => page.locator('#cred-public').textContent()).toBe(voters[0]!.credential);

    // Keyboard only: the blank-vote-capable contest takes no choice, q1 is picked with the arrow keys.
    await page.getByLabel('Oui').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('Non').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Review my ballot' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#review-list').textContent()).toContain('Blank vote');
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();

    const box = page.locator('#receipt-box');
    await expect.poll(() => box.textContent()).toContain('This credential has already voted.');
    expect(await box.textContent()).toContain('refused attempts with this credential: 1');
    expect(await box.getByTestId('receipt-hash').textContent()).toBe(firstReceipt.ballotHash);
    expect(await box.locator('[role="alert"]').count()).toBe(1);
  });

  it('derives the credential from the voter secret with a progress bar, in French on a phone', async () => {
    const page = await newPage({ viewport: PHONE, locale: 'fr-FR' });
    await page.goto(`${stack.url}/?election=${E}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Voter');
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await page.getByLabel('La dériver de mon secret d’électeur').check();
    await page.getByLabel('Secret d’électeur', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Dériver mon identifiant' }).click();
    await expect.poll(() => page.locator('#derive-box').isVisible()).toBe(true);
    await expect
      .poll(() => page.locator('#cred-public').textContent(), { timeout: 60_000 })
      .toBe(derived.publicKey.toString('hex'));
    expect(await page.locator('#derive-progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(100);

    await page.getByLabel('Non').check();
    await page.getByLabel('Chloé').check();
    await page.getByRole('button', { name: 'Relire mon bulletin' }).click();
    await page.getByRole('button', { name: 'Signer et déposer mon bulletin' }).click();
    await expect.poll(() => page.locator('#receipt-box').textContent()).toContain('Votre bulletin a été enregistré.');
    // No horizontal scrolling at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

    await page.getByRole('button', { name: 'English' }).click();
    expect(await page.locator('h1').textContent()).toBe('Cast your ballot');
    expect(await page.locator('#receipt-box').textContent()).toContain('Your ballot was recorded.');
    expect(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('reports a tampered inclusion proof as a clear failure', async () => {
    // Three ballots at once land in one window (or two), so some proof has an audit path to alter.
    const receipts = await Promise.all(
      voters.slice(3, 6).map((v, i) => stack.cast(E, v, { q1: [i % 2 ? 'oui' : 'non'], council: [] })),
    );
    const bundles = await Promise.all(receipts.map((r) => waitAnchored(r.ballotHash)));
    const target = bundles.find((b) => (b.inclusion?.auditPath.length ?? 0) > 0);
    expect(target, 'a window with more than one ballot').toBeDefined();
    const hash = target!.receipt.ballotHash;

    const page = await newPage();
    await page.route(`**/api/v1/receipts/${hash}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Bundle;
      const p = body.inclusion!.auditPath;
      p[0] = p[0]!.slice(0, -1) + (p[0]!.endsWith('0') ? '1' : '0');
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${stack.url}/?election=${E}#check`);
    await setRpcUrl(page);
    await page.getByLabel('Receipt hash (64 hexadecimal characters)').fill(hash);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    const outcome = page.getByTestId('check-outcome');
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toContain('Verification FAILED');
    expect(await outcome.textContent()).toContain(
      `the inclusion proof does not lead to the root anchored on chain for window ${target!.window!.index}`,
    );
    expect(await outcome.getAttribute('role')).toBe('alert');
    expect(await page.locator('#check-result ul.checks li.bad').allTextContents()).toEqual([
      'Proof leads to the root anchored on chain',
    ]);

    // The same receipt, untouched, verifies.
    await page.unroute(`**/api/v1/receipts/${hash}`);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect.poll(() => outcome.textContent(), { timeout: 20_000 }).toContain('Verified');
  });

  it('shows the results on a phone', async () => {
    const page = await newPage({ viewport: PHONE });
    await page.goto(`${stack.url}/results/${E}`);
    await expect.poll(() => page.locator('#total').textContent()).toBe('5');
    await setRpcUrl(page);
    await expect.poll(() => page.locator('.on-chain .chain-ok').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.locator('.chain-bad').count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectCountsBesideLabels(page);

    // A label too long for the row wraps on its own side; the count and percentage stay whole at the right.
    await page
      .locator('[data-choice="council/ana"] .name')
      .evaluate((el) => (el.textContent = 'Ana de la Fuente-Bérangère, liste des habitants du quartier nord'));
    await expectCountsBesideLabels(page);
  });

  it('serves the pages under their CSP, which blocks inline code and reports it', async () => {
    const page = await newPage();
    for (const path of [`/?election=${E}`, `/results/${E}`]) {
      const response = await page.goto(`${stack.url}${path}`);
      const csp = response!.headers()['content-security-policy'] ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain(`connect-src 'self' ${stack.rpcUrl.replace(/\/$/, '')} https:`);
      expect(response!.headers()['x-content-type-options'], path).toBe('nosniff');
    }
    await expect.poll(() => page.locator('h1').textContent()).toBe(manifest.title);
    // The detector works: an inline style added now is blocked and reported.
    await page.evaluate(() => {
      const s = document.createElement('style');
      s.textContent = 'body { background: red }';
      document.head.append(s);
    });
    // Reported twice (the event and the console): wait for both, so neither lands in the next test.
    await expect.poll(() => cspViolations.some((v) => v.startsWith('style-src'))).toBe(true);
    await expect.poll(() => cspViolations.some((v) => /Content Security Policy/.test(v))).toBe(true);
    await page.close();
    cspViolations = [];
  });

  it("keeps the voter's own saved RPC URL over the server's, and checks a receipt through it", async () => {
    const own = stack.rpcUrl.replace('127.0.0.1', 'localhost');
    expect(own).not.toBe(stack.rpcUrl);
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${E}#check`);
    await expect.poll(() => page.locator('#rpc-url').inputValue()).toBe(stack.rpcUrl);
    const settings = page.locator('#chain-settings');
    if (!(await settings.evaluate((d: HTMLDetailsElement) => d.open))) await settings.locator('summary').click();
    await page.locator('#rpc-url').fill(own);
    await page.locator('#rpc-url').press('Tab');

    // A new visit: the election publishes its chainRpcUrl, and the voter's own URL stays.
    await page.reload();
    await expect.poll(() => page.locator('#election-summary h3').textContent()).toContain(manifest.title);
    expect(await page.locator('#rpc-url').inputValue()).toBe(own);
    await page.getByLabel('Receipt hash (64 hexadecimal characters)').fill(firstReceipt.ballotHash);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await expect.poll(() => page.getByTestId('check-outcome').textContent(), { timeout: 20_000 }).toContain('Verified');

    // The results page of the same browser reads the chain through it too.
    const results = await page.context().newPage();
    await results.goto(`${stack.url}/results/${E}`);
    await expect.poll(() => results.locator('h1').textContent()).toBe(manifest.title);
    expect(await results.locator('#rpc-url').inputValue()).toBe(own);
    await expect.poll(() => results.locator('.on-chain .chain-ok').count(), { timeout: 20_000 }).toBeGreaterThan(0);

    // Clearing the field forgets it: the server's URL applies again.
    if (!(await settings.evaluate((d: HTMLDetailsElement) => d.open))) await settings.locator('summary').click();
    await page.locator('#rpc-url').fill('');
    await page.locator('#rpc-url').press('Tab');
    await page.reload();
    await expect.poll(() => page.locator('#rpc-url').inputValue()).toBe(stack.rpcUrl);
  });

  it("keeps exactly the voter's checks across a language switch: an untouched contest does not become blank", async () => {
    const L = 'lang-switch';
    const optional = (id: string, title: string) => ({
      id,
      title,
      choices: [
        { id: `${id}-a`, label: `${title} A` },
        { id: `${id}-b`, label: `${title} B` },
      ],
      minSelections: 0,
      maxSelections: 1,
    });
    const { voters: langVoters } = await stack.election(L, 1, {
      over: { contests: [optional('mayor', 'Mayor'), optional('deputy', 'Deputy'), optional('clerk', 'Clerk')] },
    });
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${L}`);
    await page.getByLabel('Private key (64 hexadecimal characters)').fill(langVoters[0]!.seed.toString('hex'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => page.locator('#cred-public').textContent()).toBe(langVoters[0]!.credential);

    // Mayor: a choice; deputy: the blank vote; clerk: untouched.
    await page.getByLabel('Mayor B').check();
    await page.locator('#fs-deputy').getByLabel('Blank vote').check();
    const checked = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLInputElement>('#contests input:checked')).map((i) => i.id),
      );
    const before = await checked();
    expect(before).toEqual(['contest-mayor-mayor-b', 'contest-deputy--blank']);

    await page.getByRole('button', { name: 'Français' }).click();
    await expect.poll(() => page.locator('#fs-clerk').getByLabel('Vote blanc').count()).toBe(1);
    expect(await checked()).toEqual(before);
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('#fs-clerk').getByLabel('Blank vote').count()).toBe(1);
    expect(await checked()).toEqual(before);
  });

  it('votes in an election whose contest and choice ids are JavaScript names', async () => {
    const H = 'hostile-page';
    const hostile = await stack.election(H, 1, {
      over: { contests: structuredClone(HOSTILE_CONTESTS) as Manifest['contests'] },
    });
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${H}`);
    await expect.poll(() => page.locator('#election-summary h3').textContent()).toContain(hostile.manifest.title);
    await page.getByLabel('Private key (64 hexadecimal characters)').fill(hostile.voters[0]!.seed.toString('hex'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => page.locator('#cred-public').textContent()).toBe(hostile.voters[0]!.credential);

    // The constructor contest left out is named, not skipped.
    await page.getByLabel('Choice then', { exact: true }).check();
    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#choices-error').textContent()).toContain('Contest constructor');
    await page.getByLabel('Choice tostring', { exact: true }).check();
    await page.getByLabel('Choice isprototypeof', { exact: true }).check();
    await page.getByLabel('Choice length', { exact: true }).check();
    await page.getByLabel('Choice map', { exact: true }).check();
    await page.getByRole('button', { name: 'Review my ballot' }).click();
    await expect.poll(() => page.locator('#review-list').textContent()).toContain('Choice then, Choice map');
    await page.getByRole('button', { name: 'Sign and cast my ballot' }).click();
    await expect.poll(() => page.locator('#receipt-box').textContent()).toContain('Your ballot was recorded.');
    const expectedHash = ballotHash(
      ballotFor(hostile.voters[0]!, H, hostileSelections(['tostring'], ['isprototypeof'], ['length'], ['then', 'map'])),
    ).toString('hex');
    expect(await page.getByTestId('receipt-hash').textContent()).toBe(expectedHash);

    const results = await newPage();
    await results.goto(`${stack.url}/results/${H}`);
    await expect.poll(() => results.locator('#total').textContent()).toBe('1');
    for (const [choice, n] of [
      ['constructor/tostring', '1'],
      ['constructor/constructor', '0'],
      ['length/length', '1'],
      ['then/then', '1'],
      ['then/push', '0'],
    ] as const)
      expect(await results.locator(`[data-choice="${choice}"]`).getAttribute('data-count'), choice).toBe(n);
  });
});
