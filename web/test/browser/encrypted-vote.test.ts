// An encrypted election (docs/protocol.md section 12) on the real stack, through the pages: 3 trustees,
// threshold 2, their key ceremony posted as signed messages (the ledger's own trustee steps). The voter page
// refuses to open the vote while the ceremony runs; then it encrypts a ballot in the browser, audits it (the
// opening shown and offered as a file, which the server's own checkAuditedBallot accepts), encrypts again
// with new randomness and casts the new one: the audited ballot is never sent. The results page shows live
// turnout and no count while the election is open, then, once two trustees have decrypted, the counts with
// "Verified ✓" after its own check; a transcript altered on the way (`page.route`) gives "Not verified ✗"
// naming the trustee, contest and choice.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testManifest, voters, type Voter } from '../../../test/support/fixtures.js';
import { keyPairFromSeed } from '../../../ledger/src/protocol/ed25519.js';
import { sha256Hex } from '../../../ledger/src/protocol/hash.js';
import { jcs } from '../../../ledger/src/protocol/jcs.js';
import type { Manifest } from '../../../ledger/src/protocol/protocol.js';
import {
  checkAuditedBallot,
  encryptBallot,
  makeDecryptShare,
  makeKeygenCommit,
  makeKeygenConfirm,
  makeKeygenShares,
  signTrusteeMessage,
  type Aggregate,
  type AuditedBallot,
  type KeygenCommit,
  type KeygenShares,
  type TrusteeSecrets,
} from '../../../ledger/src/protocol/v2/index.js';
import { DESKTOP, launchChromium } from './browser.js';
import { ADMIN_TOKEN, startWebStack, type WebStack } from './stack.js';

const E = 'secret-vote';
const CONTESTS: Manifest['contests'] = [
  {
    id: 'referendum',
    title: 'Adopt the proposal?',
    choices: [
      { id: 'yes', label: 'Yes' },
      { id: 'no', label: 'No' },
    ],
    minSelections: 0,
    maxSelections: 1,
  },
  {
    id: 'council',
    title: 'Council (1 or 2)',
    choices: [
      { id: 'ada', label: 'Ada' },
      { id: 'bob', label: 'Bob' },
      { id: 'cyd', label: 'Cyd' },
    ],
    minSelections: 1,
    maxSelections: 2,
  },
];
/** What the page casts (voter 0) and what three other voters cast over HTTP. */
const PAGE_VOTE = { referendum: ['yes'], council: ['ada', 'cyd'] };
const HTTP_VOTES = [
  { referendum: ['no'], council: ['bob'] },
  { referendum: ['yes'], council: ['bob', 'cyd'] },
  { referendum: [], council: ['ada'] },
];
const EXPECTED = { referendum: { yes: 2, no: 1 }, council: { ada: 2, bob: 2, cyd: 2 } };

interface Trustee {
  id: string;
  seed: Buffer;
  secrets?: TrusteeSecrets;
  keyShare?: string;
}

let stack: WebStack;
let browser: Browser;
let manifest: Manifest;
let manifestHash: string;
let electionVoters: Voter[];
const trustees: Trustee[] = ['ana', 'ben', 'cleo'].map((id) => ({ id, seed: randomBytes(32) }));
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return page;
}

async function admin(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(stack.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function postTrustee(t: Trustee, message: Parameters<typeof signTrusteeMessage>[1]): Promise<void> {
  const r = await admin(`/api/v1/elections/${E}/trustee-messages`, signTrusteeMessage(t.seed, message));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.1 A/AA violations on the page as it is, every "Details" opened (as a11y.test.ts runs it
 * on the other states): the encrypted election's states are not in states.ts.
 */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const { violations, passed } = await page.evaluate(async () => {
    type Result = { violations: { id: string; nodes: { target: string[] }[] }[]; passes: unknown[] };
    const { axe } = window as unknown as { axe: { run(ctx: Document, opts: object): Promise<Result> } };
    for (const d of Array.from(document.querySelectorAll('details'))) d.open = true;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return {
      violations: r.violations.flatMap((v) => v.nodes.map((n) => `${v.id} at ${n.target.join(' ')}`)),
      passed: r.passes.length,
    };
  });
  // axe ran its rules on this page (a page it could not read would pass nothing).
  expect(passed).toBeGreaterThan(5);
  return violations;
}

/** The values of a page's ballot-hash element as it changes. */
const shownHash = (page: Page) => page.locator('[data-testid="ballot-hash"]').textContent();

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
  manifest = testManifest(E, stack.ledgerKey, {
    version: 2,
    windowSeconds: 2,
    contests: CONTESTS,
    ballotMode: 'encrypted',
    trustees: trustees.map((t) => ({ id: t.id, key: keyPairFromSeed(t.seed).publicKey.toString('hex') })),
    threshold: 2,
  });
  electionVoters = voters(1 + HTTP_VOTES.length, `${E}-`);
  const created = await admin('/api/v1/elections', { manifest, roll: electionVoters.map((v) => v.credential) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  manifestHash = created.body.manifestHash;
  expect(manifestHash).toBe(sha256Hex(jcs(manifest)));
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

describe('an encrypted election in the pages', () => {
  it('cannot be voted in before the key ceremony is complete', async () => {
    const commits: KeygenCommit[] = [];
    for (const t of trustees) {
      const { message, secrets } = makeKeygenCommit(manifest, manifestHash, t.id);
      t.secrets = secrets;
      commits.push(message);
      await postTrustee(t, message);
    }
    const page = await newPage();
    await page.goto(`${stack.url}/?election=${E}`);
    await expect.poll(() => page.locator('[data-testid="secret-note"]').textContent()).toContain('2 of the 3 trustees');
    expect(await page.locator('[data-testid="ceremony-pending"]').textContent()).toContain('key ceremony in progress');
    expect(await page.locator('#step-credential').isHidden()).toBe(true);

    const shares: KeygenShares[] = [];
    for (const t of trustees) {
      const message = makeKeygenShares(manifest, manifestHash, t.id, t.secrets!, commits);
      shares.push(message);
      await postTrustee(t, message);
    }
    for (const t of trustees) {
      const { message, keyShare } = makeKeygenConfirm(manifest, manifestHash, t.id, t.secrets!, commits, shares);
      t.keyShare = keyShare;
      await postTrustee(t, message);
    }
    const e = await stack.api(`/api/v1/elections/${E}`);
    expect(e.encryption).toMatchObject({ keyCeremony: 'complete', threshold: 2 });
  });

  it('encrypts in the browser, audits a ballot (never cast) and casts a new one', async () => {
    const v = electionVoters[0]!;
    const page = await newPage();
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith(`/elections/${E}/ballots`)) posted.push(r.postData() ?? '');
    });
    await page.goto(`${stack.url}/?election=${E}`);
    await page.getByLabel('Private key (64 hexadecimal characters)').fill(v.seed.toString('hex'));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await expect.poll(() => page.locator('#step-choices').isVisible()).toBe(true);
    await page.locator('#fs-referendum').getByLabel('Yes').check();
    await page.getByLabel('Ada').check();
    await page.getByLabel('Cyd').check();
    await page.getByRole('button', { name: 'Review my ballot' }).click();

    // Encrypted and signed in the page: its hash shown, the v1 cast button replaced by the two actions.
    await expect.poll(() => shownHash(page), { timeout: 20_000 }).toMatch(/^[0-9a-f]{64}$/);
    const audited = (await shownHash(page))!;
    expect(await page.locator('#cast-button').isHidden()).toBe(true);

    await page.getByRole('button', { name: 'Audit it (it will not be cast)' }).click();
    const verdict = page.locator('[data-testid="audit-verdict"]');
    await expect.poll(() => verdict.textContent()).toBe('The encryption matches your choices.');
    expect(await page.locator('[data-testid="audit-selections"]').textContent()).toBe(
      'Adopt the proposal?YesCouncil (1 or 2)Ada, Cyd',
    );
    expect(await page.locator('[data-testid="audited-hash"]').textContent()).toBe(audited);
    await expect.poll(() => shownHash(page), { timeout: 20_000 }).toMatch(/^[0-9a-f]{64}$/);
    expect(await axeViolations(page)).toEqual([]);

    // The opening file: what `tallyproof-verify audited-ballot` reads; the server's own check accepts it.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the opening (JSON)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`tallyproof-audited-ballot-${audited.slice(0, 12)}.json`);
    const chunks: Buffer[] = [];
    for await (const c of await download.createReadStream()) chunks.push(c as Buffer);
    const file = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuditedBallot;
    expect(file).toMatchObject({ version: 2, kind: 'audited-ballot', ballotHash: audited });
    const publicKey = (await stack.api(`/api/v1/elections/${E}`)).encryption.publicKey as string;
    expect(checkAuditedBallot({ manifest, manifestHash, publicKey }, file)).toEqual(PAGE_VOTE);

    // Thrown away and encrypted again, with new randomness: a new hash.
    await expect.poll(() => shownHash(page), { timeout: 20_000 }).toMatch(/^[0-9a-f]{64}$/);
    await expect.poll(async () => (await shownHash(page)) !== audited).toBe(true);
    const cast = (await shownHash(page))!;
    await page.getByRole('button', { name: 'Cast this ballot' }).click();
    await expect
      .poll(() => page.locator('#receipt-box').textContent(), { timeout: 20_000 })
      .toContain('Your ballot was recorded.');
    expect(await page.locator('[data-testid="receipt-hash"]').textContent()).toBe(cast);

    // Only the cast ballot went out; the audited one is nowhere.
    expect(posted.map((body) => sha256Hex(jcs(JSON.parse(body))))).toEqual([cast]);
    expect((await fetch(`${stack.url}/api/v1/receipts/${audited}`)).status).toBe(404);
    expect((await stack.api(`/api/v1/receipts/${cast}`)).receipt.ballotHash).toBe(cast);
  });

  it('shows turnout live, then the decrypted counts verified by the page itself', async () => {
    const results = await newPage();
    await results.goto(`${stack.url}/results/${E}`);
    const pending = results.locator('[data-testid="counts-pending"]');
    await expect
      .poll(() => pending.textContent())
      .toBe('Counts will be published after the trustees decrypt (2 of 3).');
    expect(await results.locator('[data-choice]').count()).toBe(0);
    expect(await axeViolations(results)).toEqual([]);

    const publicKey = (await stack.api(`/api/v1/elections/${E}`)).encryption.publicKey as string;
    for (const [i, selections] of HTTP_VOTES.entries()) {
      const { submission } = encryptBallot(
        { manifest, manifestHash, publicKey },
        electionVoters[i + 1]!.seed,
        selections,
      );
      const res = await fetch(`${stack.url}/api/v1/elections/${E}/ballots`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission),
      });
      expect(res.status).toBe(201);
    }
    await expect.poll(() => results.locator('#total').textContent(), { timeout: 10_000 }).toBe('4');
    expect(await pending.isVisible()).toBe(true);

    // The close: the aggregate is published, then two of the three trustees decrypt (ben is away).
    await stack.close(E);
    let aggregate: Aggregate | null = null;
    await expect
      .poll(
        async () => {
          const res = await fetch(`${stack.url}/api/v1/elections/${E}/aggregate`);
          if (res.status === 200) aggregate = (await res.json()) as Aggregate;
          return res.status;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(200);
    for (const t of [trustees[0]!, trustees[2]!]) {
      await postTrustee(t, makeDecryptShare(manifest, manifestHash, t.id, t.keyShare!, aggregate!));
    }

    const mark = results.locator('[data-testid="tally-check"]');
    await expect.poll(() => mark.getAttribute('data-verified'), { timeout: 60_000 }).toBe('true');
    expect(await mark.textContent()).toContain('Verified ✓');
    expect(await mark.textContent()).toContain('ana, cleo');
    for (const [contest, counts] of Object.entries(EXPECTED)) {
      for (const [choice, n] of Object.entries(counts)) {
        expect(await results.locator(`[data-choice="${contest}/${choice}"]`).getAttribute('data-count')).toBe(
          String(n),
        );
      }
    }
    // No blank row: blank votes are not counted separately in an encrypted election.
    expect(await results.locator('[data-blank="referendum"]').isVisible()).toBe(false);
    expect(await results.locator('#encrypted-section').textContent()).toContain('tallyproof-verify audit');
    expect(await axeViolations(results)).toEqual([]);
  });

  it('says "not verified", and why, when a decryption share does not check', async () => {
    const page = await newPage();
    // As if cleo had signed a wrong share for council/bob (her share for council/ada) and the server served it:
    // the signature holds, the share is a group element, its proof does not verify.
    await page.route('**/api/v1/elections/*/trustee-messages', async (route) => {
      const res = await route.fetch();
      const transcript = await res.json();
      transcript.messages = transcript.messages.map((m: any) => {
        if (m.message.kind !== 'decrypt' || m.message.trustee !== 'cleo') return m;
        m.message.shares.council.bob.share = m.message.shares.council.ada.share;
        return signTrusteeMessage(trustees[2]!.seed, m.message);
      });
      await route.fulfill({ response: res, json: transcript });
    });
    await page.goto(`${stack.url}/results/${E}`);
    const mark = page.locator('[data-testid="tally-check"]');
    await expect.poll(() => mark.getAttribute('data-verified'), { timeout: 60_000 }).toBe('false');
    expect(await mark.textContent()).toContain('Not verified ✗');
    expect(await mark.textContent()).toContain('cleo');
    expect(await mark.textContent()).toContain('council/bob');
    expect(await axeViolations(page)).toEqual([]);
  });
});
