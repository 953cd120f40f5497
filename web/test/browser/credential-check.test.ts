// The voter page looks a loaded key up on the roll before the choices open (issue #15, "mistakes caught
// where they are made"): a mistyped voter secret derives a valid key that is on no roll, and the voter is
// told so, and that the secret may be mistyped, before any choice is shown; the right secret proceeds. A
// pasted key off the roll is caught the same way; while the lookup is in flight the choices stay closed;
// when it cannot be made (offline) the voter goes on, warned. Chromium against the real stack (stack.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { voter, type Voter } from '../../../test/support/fixtures.js';
import { deriveCredential } from '../../../ledger/src/protocol/protocol.js';
import { DESKTOP, launchChromium } from './browser.js';
import { startWebStack, type WebStack } from './stack.js';

const E = 'roll-check';
const SECRET = 'Tulip-4417 harbour 09';
// One character off: a capital letter typed in lower case.
const MISTYPED = 'tulip-4417 harbour 09';
const LOOKUP = /\/api\/v1\/elections\/roll-check\/roll\/[0-9a-f]{64}$/;

let stack: WebStack;
let browser: Browser;
let voters: Voter[];
let derived: { seed: Buffer; publicKey: Buffer };
const contexts: BrowserContext[] = [];
let pageErrors: string[] = [];

interface Watched {
  page: Page;
  /** The API requests the page made, as paths. */
  requests: string[];
}

/** The voter page of the election, recording its API requests and whether the choices were ever shown. */
async function openVoterPage(locale = 'en-GB'): Promise<Watched> {
  const context = await browser.newContext({ viewport: DESKTOP, locale });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const requests: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/')) requests.push(path);
  });
  await page.goto(`${stack.url}/?election=${E}`);
  await expect.poll(() => page.locator('#step-credential').isVisible()).toBe(true);
  await page.evaluate(() => {
    const choices = document.querySelector<HTMLElement>('#step-choices')!;
    const w = window as unknown as { choicesShown: number };
    w.choicesShown = choices.hidden ? 0 : 1;
    new MutationObserver(() => {
      if (!choices.hidden) w.choicesShown++;
    }).observe(choices, { attributes: true, attributeFilter: ['hidden'] });
  });
  return { page, requests };
}

/** How many times the choices step became visible since the page was opened. */
const choicesShown = (page: Page) => page.evaluate(() => (window as unknown as { choicesShown: number }).choicesShown);

async function pasteKey(page: Page, seedHex: string): Promise<void> {
  await page.getByLabel('Private key (64 hexadecimal characters)').fill(seedHex);
  await page.getByRole('button', { name: 'Use this key' }).click();
}

beforeAll(async () => {
  [stack, browser, derived] = await Promise.all([startWebStack(), launchChromium(), deriveCredential(SECRET, E)]);
  ({ voters } = await stack.election(E, 3, { extraCredentials: [derived.publicKey.toString('hex')] }));
});

afterEach(() => {
  const seen = pageErrors;
  pageErrors = [];
  expect(seen, 'page errors').toEqual([]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('the credential is checked against the roll before the ballot', () => {
  it('a mistyped secret is caught before the ballot, with a message that the secret may be mistyped; the right one proceeds', async () => {
    const { page, requests } = await openVoterPage();
    await page.getByLabel('Derive it from my voter secret').check();
    const secret = page.getByLabel('Voter secret', { exact: true });
    await secret.fill(MISTYPED);
    await page.getByRole('button', { name: 'Derive my credential' }).click();

    const error = page.locator('#cred-error');
    await expect.poll(() => error.isVisible(), { timeout: 60_000 }).toBe(true);
    const text = await error.textContent();
    expect(text).toContain('not on the roll of this election');
    expect(text).toContain('may be mistyped');
    expect(await error.getAttribute('role')).toBe('alert');
    // No ballot, no "loaded": the choices were never shown, and the voter is back at the secret.
    expect(await choicesShown(page)).toBe(0);
    expect(await page.locator('#step-choices').isHidden()).toBe(true);
    expect(await page.locator('#cred-loaded').isHidden()).toBe(true);
    expect(await secret.getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('secret-input');
    // One lookup of the derived key, not the roll.
    expect(requests.filter((p) => LOOKUP.test(p))).toHaveLength(1);
    expect(requests.filter((p) => p.endsWith('/roll'))).toEqual([]);

    await secret.fill(SECRET);
    await page.getByRole('button', { name: 'Derive my credential' }).click();
    await expect.poll(() => page.locator('#step-choices').isVisible(), { timeout: 60_000 }).toBe(true);
    expect(await page.locator('#cred-public').textContent()).toBe(derived.publicKey.toString('hex'));
    expect(await page.locator('#cred-roll').textContent()).toBe('This credential is on the roll of this election.');
    expect(await page.locator('#cred-loaded').getAttribute('class')).toContain('ok');
    expect(await error.isHidden()).toBe(true);
    expect(await secret.getAttribute('aria-invalid')).toBeNull();
    expect(await choicesShown(page)).toBe(1);
    // the choices are usable
    await page.getByLabel('Non').check();
    expect(await page.getByLabel('Non').isChecked()).toBe(true);
  });

  it('a pasted key off the roll is caught while the choices stay closed during the lookup; the message follows the language', async () => {
    const { page } = await openVoterPage();
    // Hold the lookups until the test has seen the page waiting for them.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(LOOKUP, async (route) => {
      await held;
      await route.continue();
    });
    await pasteKey(page, voter('not-on-this-roll').seed.toString('hex'));
    await expect.poll(() => page.locator('#cred-checking').textContent()).toContain('Checking');
    expect(await page.locator('#step-choices').isHidden()).toBe(true);
    expect(await page.locator('#cred-loaded').isHidden()).toBe(true);
    release();

    const error = page.locator('#cred-error');
    await expect.poll(() => error.textContent()).toContain('This key is not on the roll of this election.');
    expect(await error.textContent()).not.toContain('mistyped');
    expect(await page.locator('#cred-checking').textContent()).toBe('');
    expect(await choicesShown(page)).toBe(0);
    await page.getByRole('button', { name: 'Français' }).click();
    await expect
      .poll(() => error.textContent())
      .toContain('Cette clé ne figure pas sur la liste électorale de ce scrutin.');
    await page.getByRole('button', { name: 'English' }).click();

    await pasteKey(page, voters[0]!.seed.toString('hex'));
    await expect.poll(() => page.locator('#step-choices').isVisible()).toBe(true);
    expect(await page.locator('#cred-public').textContent()).toBe(voters[0]!.credential);
    expect(await error.isHidden()).toBe(true);
  });

  it('when the lookup cannot be made (offline), the voter goes on, warned that the key was not checked', async () => {
    const { page } = await openVoterPage();
    await page.route(LOOKUP, (route) => route.abort('internetdisconnected'));
    await pasteKey(page, voters[1]!.seed.toString('hex'));
    await expect.poll(() => page.locator('#step-choices').isVisible()).toBe(true);
    expect(await page.locator('#cred-public').textContent()).toBe(voters[1]!.credential);
    expect(await page.locator('#cred-roll').textContent()).toContain('could not be checked');
    expect(await page.locator('#cred-loaded').getAttribute('class')).toContain('warn');
    expect(await page.locator('#cred-error').isHidden()).toBe(true);
  });
});
