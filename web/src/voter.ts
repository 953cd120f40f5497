// The voter page: choose the election, load a credential, choose, review, sign in the browser, cast,
// keep the receipt, and check it against the chain.
import { ApiError, getElection, getProofBundle, listElections, submitBallot, type ElectionInfo } from './api.js';
import { checkReceipt, type CheckResult } from './check.js';
import { $, append, download, h, hexCode, replace, reveal } from './dom.js';
import { formatDate, initI18n, onLanguageChange, t, type Key } from './i18n.js';
import {
  ID_PATTERN,
  ballotHash,
  deriveSeed,
  hexToBytes,
  isHex,
  isReceipt,
  publicKeyOf,
  signBallot,
  verifyReceiptSignature,
  type Ballot,
  type Contest,
  type Receipt,
  type Selections,
} from './protocol.js';

interface State {
  election: ElectionInfo | null;
  seed: Uint8Array | null;
  credential: string | null;
  selections: Selections | null;
  /** What the receipt step shows, re-rendered on a language change. */
  receiptView: (() => Node) | null;
  checkView: (() => Node) | null;
}

const state: State = { election: null, seed: null, credential: null, selections: null, receiptView: null, checkView: null };
const RPC_STORAGE = 'tallyproof.rpcUrl';

// ---------------------------------------------------------------------------------------------
// helpers

function show(el: HTMLElement, text: string | null): void {
  el.textContent = text ?? '';
  el.hidden = text === null;
}

function apiMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'network') return t('common.networkError', { message: err.message });
    const key = `error.${err.code}` as Key;
    const known = t(key, { message: err.message });
    return known !== key ? known : t('common.apiError', { message: err.message, code: err.code });
  }
  return (err as Error).message ?? String(err);
}

function statusBadge(status: string, label: string): HTMLElement {
  return h('span', { class: `badge ${status}` }, label);
}

// ---------------------------------------------------------------------------------------------
// 1. election

const electionForm = $<HTMLFormElement>('#election-form');
const electionInput = $<HTMLInputElement>('#election-id');
const electionError = $('#election-error');
const electionSummary = $('#election-summary');

function renderElectionSummary(): void {
  const e = state.election;
  if (!e) return;
  const m = e.manifest;
  const children: (Node | null)[] = [
    h('h3', {}, m.title, ' ', statusBadge(e.status, t(`election.status.${e.status}` as Key))),
    h('dl', { class: 'kv' },
      h('dt', {}, t('election.opens')), h('dd', {}, formatDate(m.opensAt)),
      h('dt', {}, t('election.closes')), h('dd', {}, formatDate(m.closesAt)),
      h('dt', {}, t('election.manifestHash')), h('dd', {}, hexCode(e.manifestHash)),
      h('dt', {}, t('election.contract')), h('dd', {}, e.contract ? hexCode(e.contract) : t('common.none')),
      h('dt', {}, t('election.chain')), h('dd', {}, e.chainId === null ? t('common.none') : String(e.chainId)),
    ),
    h('p', {}, h('a', { href: `/results/${encodeURIComponent(m.electionId)}` }, t('election.resultsLink'))),
  ];
  if (e.status === 'scheduled') children.push(h('p', { class: 'notice warn' }, t('election.notOpen', { when: formatDate(m.opensAt) })));
  if (e.status === 'closed') children.push(h('p', { class: 'notice warn' }, t('election.closedNote')));
  replace(electionSummary, ...children);
  electionSummary.hidden = false;
}

async function loadElection(id: string, focus: boolean): Promise<void> {
  show(electionError, null);
  electionInput.removeAttribute('aria-invalid');
  if (!ID_PATTERN.test(id)) {
    electionInput.setAttribute('aria-invalid', 'true');
    show(electionError, t('election.invalidId'));
    if (focus) electionInput.focus();
    return;
  }
  let e: ElectionInfo;
  try {
    e = await getElection(id);
  } catch (err) {
    electionInput.setAttribute('aria-invalid', 'true');
    show(electionError, err instanceof ApiError && err.status === 404 ? t('election.notFound', { id }) : apiMessage(err));
    if (focus) electionInput.focus();
    return;
  }
  // A new election: forget what belonged to the previous one.
  const changed = state.election?.manifest.electionId !== e.manifest.electionId;
  state.election = e;
  if (changed) resetCredential();
  const url = new URL(location.href);
  url.searchParams.set('election', id);
  history.replaceState(null, '', url);
  const navResults = $<HTMLAnchorElement>('#nav-results');
  navResults.href = `/results/${encodeURIComponent(id)}`;
  navResults.hidden = false;
  renderElectionSummary();
  fillChainSettings(e);
  renderContests();
  if (e.status === 'closed') {
    for (const s of ['#step-credential', '#step-choices', '#step-review']) $(s).hidden = true;
    return;
  }
  reveal($('#step-credential'), focus);
  if (state.seed) reveal($('#step-choices'), false);
}

electionForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void loadElection(electionInput.value.trim(), true);
});

// ---------------------------------------------------------------------------------------------
// 2. credential

const credError = $('#cred-error');
const credLoaded = $('#cred-loaded');
const modeForms = { paste: $<HTMLFormElement>('#cred-paste'), file: $<HTMLFormElement>('#cred-file'), secret: $<HTMLFormElement>('#cred-secret') };

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="cred-mode"]')) {
  radio.addEventListener('change', () => {
    for (const [mode, form] of Object.entries(modeForms)) form.hidden = mode !== radio.value;
    show(credError, null);
  });
}

function resetCredential(): void {
  state.seed = null;
  state.credential = null;
  state.selections = null;
  credLoaded.hidden = true;
  for (const s of ['#step-choices', '#step-review', '#step-receipt']) $(s).hidden = true;
}

function useSeed(seed: Uint8Array, expectedCredential?: string): void {
  const credential = publicKeyOf(seed);
  if (expectedCredential !== undefined && expectedCredential !== credential) {
    show(credError, t('cred.mismatch', { credential: expectedCredential }));
    return;
  }
  show(credError, null);
  state.seed = seed;
  state.credential = credential;
  $('#cred-public').textContent = credential;
  credLoaded.hidden = false;
  $('#step-review').hidden = true;
  $('#step-receipt').hidden = true;
  reveal($('#step-choices'));
}

/** A pasted key: 64 hex (seed), 128 hex (seed || public key), optional 0x, or a credentials-file line. */
function parsePastedKey(text: string): { seed: Uint8Array; credential?: string } | null {
  const v = text.trim();
  if (v.startsWith('{')) {
    try {
      const o = JSON.parse(v) as { seed?: unknown; credential?: unknown };
      if (isHex(o.seed, 32) && (o.credential === undefined || isHex(o.credential, 32))) {
        return { seed: hexToBytes(o.seed), credential: o.credential as string | undefined };
      }
    } catch {
      // fall through
    }
    return null;
  }
  const hex = v.replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]*$/.test(hex)) return null;
  if (hex.length === 64) return { seed: hexToBytes(hex) };
  if (hex.length === 128) return { seed: hexToBytes(hex.slice(0, 64)), credential: hex.slice(64) };
  return null;
}

modeForms.paste.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('#seed-input');
  const parsed = parsePastedKey(input.value);
  if (!parsed) {
    input.setAttribute('aria-invalid', 'true');
    show(credError, t('cred.badSeed'));
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  useSeed(parsed.seed, parsed.credential);
});

// Credentials file: JSON lines {"credential":HEX32,"seed":HEX32}.
const fileLines: { credential: string; seed: string }[] = [];
const MAX_OPTIONS = 1000;
const lineSelect = $<HTMLSelectElement>('#cred-line');
const lineNumber = $<HTMLInputElement>('#cred-line-number');

$<HTMLInputElement>('#cred-file-input').addEventListener('change', async (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  $('#cred-line-box').hidden = true;
  fileLines.length = 0;
  if (!file) return;
  const text = await file.text();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let o: Record<string, unknown> | null = null;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      o = null;
    }
    const credential = o?.credential;
    const seed = o?.seed;
    if (!isHex(credential, 32) || !isHex(seed, 32)) {
      show(credError, t('cred.fileBadLine', { n: i + 1 }));
      return;
    }
    fileLines.push({ credential, seed });
  }
  if (fileLines.length === 0) {
    show(credError, t('cred.fileEmpty'));
    return;
  }
  show(credError, null);
  const many = fileLines.length > MAX_OPTIONS;
  lineSelect.hidden = many;
  lineNumber.hidden = !many;
  const label = $('#cred-line-label');
  if (many) {
    label.setAttribute('for', 'cred-line-number');
    label.textContent = t('cred.lineNumberLabel', { n: fileLines.length });
    lineNumber.max = String(fileLines.length);
    lineNumber.value = '1';
  } else {
    label.setAttribute('for', 'cred-line');
    label.textContent = t('cred.lineLabel');
    replace(lineSelect, ...fileLines.map((c, i) => h('option', { value: String(i) }, `${i + 1}. ${c.credential.slice(0, 16)}…${c.credential.slice(-8)}`)));
  }
  $('#cred-line-box').hidden = false;
});

modeForms.file.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const index = lineNumber.hidden ? Number(lineSelect.value) : Number(lineNumber.value) - 1;
  const line = fileLines[index];
  if (!line) return;
  useSeed(hexToBytes(line.seed), line.credential);
});

// Voter secret: scrypt in the page, with a progress bar (noble scryptAsync yields every few ms).
let deriving = false;
modeForms.secret.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (deriving) return;
  const e = state.election;
  const input = $<HTMLInputElement>('#secret-input');
  if (!e) {
    show(credError, t('cred.needElection'));
    return;
  }
  if (input.value === '') {
    input.setAttribute('aria-invalid', 'true');
    show(credError, t('cred.emptySecret'));
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  show(credError, null);
  const button = $<HTMLButtonElement>('#derive-button');
  const bar = $<HTMLProgressElement>('#derive-progress');
  const status = $('#derive-status');
  deriving = true;
  button.disabled = true;
  $('#derive-box').hidden = false;
  bar.value = 0;
  let lastShown = -1;
  try {
    const seed = await deriveSeed(input.value, e.manifest.electionId, (p) => {
      const percent = Math.floor(p * 100);
      bar.value = percent;
      // Announce in steps of 25 % only; the bar itself moves continuously.
      if (percent >= lastShown + 25 || percent === 100) {
        lastShown = percent;
        status.textContent = t('cred.deriving', { percent });
      }
    });
    bar.value = 100;
    status.textContent = t('cred.derived');
    useSeed(seed);
  } finally {
    deriving = false;
    button.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// 3. choices

const contestsBox = $('#contests');
const choicesError = $('#choices-error');

function hintFor(c: Contest): string {
  if (c.maxSelections === 1) return c.minSelections === 1 ? t('choices.pickOne') : t('choices.pickOneOrNone');
  if (c.minSelections === c.maxSelections) return t('choices.pickExactly', { n: c.maxSelections });
  if (c.minSelections === 0) return t('choices.pickUpTo', { max: c.maxSelections });
  return t('choices.pickRange', { min: c.minSelections, max: c.maxSelections });
}

/** What is checked now, contest by contest (in choice order). */
function currentSelections(): Selections {
  const out: Selections = {};
  for (const c of state.election?.manifest.contests ?? []) {
    const checked = [...contestsBox.querySelectorAll<HTMLInputElement>(`[data-contest="${c.id}"]:checked`)];
    out[c.id] = checked.map((i) => i.value).filter((v) => v !== '');
  }
  return out;
}

function updateLimits(c: Contest): void {
  if (c.maxSelections === 1) return;
  const boxes = [...contestsBox.querySelectorAll<HTMLInputElement>(`[data-contest="${c.id}"]`)];
  const n = boxes.filter((b) => b.checked).length;
  for (const b of boxes) {
    b.disabled = !b.checked && n >= c.maxSelections;
    b.closest('.choice')?.classList.toggle('disabled', b.disabled);
  }
  const counter = contestsBox.querySelector(`#count-${c.id}`);
  if (counter) counter.textContent = t('choices.count', { n, max: c.maxSelections });
}

function renderContests(): void {
  const e = state.election;
  if (!e) return;
  const keep = contestsBox.childElementCount > 0 ? currentSelections() : state.selections;
  replace(contestsBox, ...e.manifest.contests.map((c) => {
    const single = c.maxSelections === 1;
    const name = `contest-${c.id}`;
    const fs = h('fieldset', { id: `fs-${c.id}`, 'aria-describedby': `hint-${c.id} err-${c.id}` },
      h('legend', {}, c.title),
      h('p', { class: 'help', id: `hint-${c.id}` }, hintFor(c)),
    );
    for (const k of c.choices) {
      const input = h('input', { type: single ? 'radio' : 'checkbox', name, value: k.id, 'data-contest': c.id, id: `${name}-${k.id}` });
      input.checked = keep?.[c.id]?.includes(k.id) ?? false;
      input.addEventListener('change', () => {
        updateLimits(c);
        fs.classList.remove('invalid');
        $(`#err-${c.id}`, fs).hidden = true;
      });
      append(fs, h('label', { class: 'choice', for: input.id }, input, h('span', {}, k.label)));
    }
    if (single && c.minSelections === 0) {
      const blank = h('input', { type: 'radio', name, value: '', 'data-contest': c.id, id: `${name}--blank` });
      blank.checked = keep !== null && keep !== undefined && (keep[c.id]?.length ?? 0) === 0;
      blank.addEventListener('change', () => fs.classList.remove('invalid'));
      append(fs, h('label', { class: 'choice', for: blank.id }, blank, h('span', {}, t('choices.blank'))));
    }
    if (!single) append(fs, h('p', { class: 'help', id: `count-${c.id}`, 'aria-live': 'polite' }));
    append(fs, h('p', { class: 'notice bad', id: `err-${c.id}`, hidden: true }));
    return fs;
  }));
  for (const c of e.manifest.contests) updateLimits(c);
}

/** The manifest's rules: each contest within [min, max]. */
function validateSelections(sel: Selections): { contest: Contest; message: string }[] {
  const problems: { contest: Contest; message: string }[] = [];
  for (const c of state.election?.manifest.contests ?? []) {
    const n = sel[c.id]?.length ?? 0;
    if (n < c.minSelections) problems.push({ contest: c, message: t('choices.tooFew', { contest: c.title, min: c.minSelections }) });
    else if (n > c.maxSelections) problems.push({ contest: c, message: t('choices.tooMany', { contest: c.title, max: c.maxSelections }) });
  }
  return problems;
}

$<HTMLFormElement>('#ballot-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const sel = currentSelections();
  const problems = validateSelections(sel);
  for (const c of state.election?.manifest.contests ?? []) {
    $(`#fs-${c.id}`).classList.remove('invalid');
    $(`#err-${c.id}`).hidden = true;
  }
  if (problems.length > 0) {
    for (const p of problems) {
      $(`#fs-${p.contest.id}`).classList.add('invalid');
      show($(`#err-${p.contest.id}`), p.message);
    }
    replace(choicesError, h('strong', {}, t('choices.fix')), h('ul', {}, ...problems.map((p) => h('li', {}, p.message))));
    choicesError.hidden = false;
    contestsBox.querySelector<HTMLInputElement>(`#fs-${problems[0]!.contest.id} input:not(:disabled)`)?.focus();
    return;
  }
  choicesError.hidden = true;
  state.selections = sel;
  renderReview();
  $('#step-choices').hidden = true;
  show($('#cast-error'), null);
  reveal($('#step-review'));
});

// ---------------------------------------------------------------------------------------------
// 4. review and cast

function renderReview(): void {
  const e = state.election;
  const sel = state.selections;
  if (!e || !sel) return;
  const rows: Node[] = [];
  for (const c of e.manifest.contests) {
    const labels = (sel[c.id] ?? []).map((id) => c.choices.find((k) => k.id === id)?.label ?? id);
    rows.push(h('dt', {}, c.title), h('dd', {}, labels.length > 0 ? labels.join(', ') : h('em', {}, t('review.blank'))));
  }
  rows.push(h('dt', {}, t('review.credential')), h('dd', {}, hexCode(state.credential ?? '')));
  replace($('#review-list'), ...rows);
}

$('#edit-button').addEventListener('click', () => {
  $('#step-review').hidden = true;
  reveal($('#step-choices'));
});

const castButton = $<HTMLButtonElement>('#cast-button');
castButton.addEventListener('click', async () => {
  const e = state.election;
  if (!e || !state.seed || !state.credential || !state.selections) return;
  const castError = $('#cast-error');
  show(castError, null);
  castButton.disabled = true;
  castButton.textContent = t('review.casting');
  try {
    const ballot: Ballot = { version: 1, electionId: e.manifest.electionId, credential: state.credential, selections: state.selections };
    const submission = signBallot(state.seed, ballot);
    const expectedHash = ballotHash(submission);
    const outcome = await submitBallot(e.manifest.electionId, submission);
    if (outcome.kind === 'accepted') {
      state.receiptView = () => receiptView(outcome.receipt, expectedHash, outcome.status === 200);
    } else {
      state.receiptView = () => duplicateView(outcome.attemptCount, outcome.receipt);
    }
    replace($('#receipt-box'), state.receiptView());
    $('#step-review').hidden = true;
    reveal($('#step-receipt'));
  } catch (err) {
    show(castError, apiMessage(err));
  } finally {
    castButton.disabled = false;
    castButton.textContent = t('review.cast');
  }
});

function receiptDetails(r: Receipt): HTMLElement {
  return h('dl', { class: 'kv' },
    h('dt', {}, t('receipt.hash')), h('dd', {}, hexCode(r.ballotHash, { 'data-testid': 'receipt-hash' })),
    h('dt', {}, t('receipt.seq')), h('dd', {}, String(r.seq)),
    h('dt', {}, t('receipt.receivedAt')), h('dd', {}, formatDate(r.receivedAt)),
  );
}

function receiptActions(r: Receipt): HTMLElement {
  return h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: () => download(`tallyproof-receipt-${r.ballotHash.slice(0, 12)}.json`, JSON.stringify(r, null, 2) + '\n') }, t('receipt.download')),
    h('button', { type: 'button', class: 'primary', onclick: () => startCheck(r.ballotHash, r) }, t('receipt.check')),
  );
}

function receiptView(r: Receipt, expectedHash: string, again: boolean): Node {
  const e = state.election!;
  const signed = verifyReceiptSignature(r, e.manifest.ledgerKey);
  const sameHash = r.ballotHash === expectedHash;
  return h('div', {},
    h('div', { class: `notice ${signed && sameHash ? 'ok' : 'bad'}`, role: 'status' },
      h('strong', {}, t(again ? 'receipt.again' : 'receipt.accepted')),
      h('p', {}, signed ? t('receipt.signatureOk') : t('receipt.signatureBad')),
      sameHash ? null : h('p', {}, t('receipt.hashMismatch', { got: r.ballotHash, expected: expectedHash })),
    ),
    receiptDetails(r),
    h('p', {}, t('receipt.promise', { seconds: e.manifest.windowSeconds + 30 }), ' ', t('receipt.keep')),
    receiptActions(r),
  );
}

function duplicateView(attemptCount: number, original: Receipt | null): Node {
  return h('div', {},
    h('div', { class: 'notice bad', role: 'alert' },
      h('strong', {}, t('dup.title')),
      h('p', {}, t('dup.body', { n: attemptCount })),
    ),
    original ? h('div', {}, h('p', {}, t('dup.original')), receiptDetails(original), receiptActions(original)) : null,
  );
}

// ---------------------------------------------------------------------------------------------
// check my receipt

const checkForm = $<HTMLFormElement>('#check-form');
const checkHash = $<HTMLInputElement>('#check-hash');
const checkError = $('#check-hash-error');
const checkResultBox = $('#check-result');
const rpcInput = $<HTMLInputElement>('#rpc-url');
const contractInput = $<HTMLInputElement>('#contract-address');
let rpcEdited = false;
let contractEdited = false;
let receiptFile: Receipt | null = null;

function fillChainSettings(e: ElectionInfo): void {
  if (!rpcEdited) {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(RPC_STORAGE);
    } catch {
      saved = null;
    }
    rpcInput.value = e.chainRpcUrl ?? saved ?? rpcInput.value;
  }
  if (!contractEdited && e.contract) contractInput.value = e.contract;
}

rpcInput.addEventListener('change', () => {
  rpcEdited = true;
  try {
    localStorage.setItem(RPC_STORAGE, rpcInput.value.trim());
  } catch {
    // not kept
  }
});
contractInput.addEventListener('change', () => {
  contractEdited = true;
});

$<HTMLInputElement>('#check-file').addEventListener('change', async (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  receiptFile = null;
  show(checkError, null);
  if (!file) return;
  try {
    const parsed = JSON.parse(await file.text()) as unknown;
    const r = isReceipt(parsed) ? parsed : (parsed as { receipt?: unknown })?.receipt;
    if (!isReceipt(r)) throw new Error('not a receipt');
    receiptFile = r;
    checkHash.value = r.ballotHash;
  } catch {
    show(checkError, t('check.badFile'));
  }
});

checkHash.addEventListener('input', () => {
  if (receiptFile && checkHash.value.trim() !== receiptFile.ballotHash) receiptFile = null;
});

checkForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const hash = checkHash.value.trim().toLowerCase();
  if (!isHex(hash, 32)) {
    checkHash.setAttribute('aria-invalid', 'true');
    show(checkError, t('check.badHash'));
    checkHash.focus();
    return;
  }
  checkHash.removeAttribute('aria-invalid');
  show(checkError, null);
  void runCheck(hash, receiptFile, true);
});

/** Called from the receipt step: fill the form and run the check, focusing the result. */
function startCheck(hash: string, receipt: Receipt): void {
  checkHash.value = hash;
  receiptFile = receipt;
  show(checkError, null);
  void runCheck(hash, receipt, true);
  const heading = $('#h-check');
  heading.tabIndex = -1;
  heading.focus();
}

let checkGeneration = 0;
const electionCache = new Map<string, ElectionInfo>();

async function electionFor(id: string): Promise<ElectionInfo> {
  if (state.election?.manifest.electionId === id) return state.election;
  let e = electionCache.get(id);
  if (!e) {
    e = await getElection(id);
    electionCache.set(id, e);
    if (!state.election) fillChainSettings(e);
  }
  return e;
}

/** Fetch, check, show; while the ballot is pending or sealed, check again every 2 s (for a while). */
async function runCheck(hash: string, file: Receipt | null, first: boolean, startedAt = Date.now()): Promise<void> {
  const generation = first ? ++checkGeneration : checkGeneration;
  const button = $<HTMLButtonElement>('#check-button');
  if (first) button.disabled = true;
  let result: CheckResult | null = null;
  let message: string | null = null;
  try {
    const bundle = await getProofBundle(hash);
    const e = await electionFor(bundle.receipt?.electionId ?? '');
    result = await checkReceipt({
      ballotHash: hash,
      bundle,
      manifest: e.manifest,
      chainId: e.chainId,
      rpcUrl: rpcInput.value.trim() || null,
      contract: contractInput.value.trim() || e.contract,
      receiptFile: file,
    });
  } catch (err) {
    message = err instanceof ApiError && err.status === 404 ? t('error.not-found') : apiMessage(err);
  } finally {
    if (first) button.disabled = false;
  }
  if (generation !== checkGeneration) return; // another check started meanwhile

  const state0 = result?.outcome.state;
  const waitMs = 2000;
  const windowSeconds = result ? (electionCache.get(result.bundle.receipt.electionId) ?? state.election)?.manifest.windowSeconds ?? 60 : 60;
  const keepPolling = (state0 === 'pending' || state0 === 'sealed') && Date.now() - startedAt < (windowSeconds + 120) * 1000;
  const signature = message ?? `${state0}|${result?.bundle.status}|${result?.steps.length}`;
  if (first || checkResultBox.dataset.signature !== signature) {
    state.checkView = () => (result ? checkView(result, keepPolling, hash, file) : h('p', { class: 'notice bad', role: 'alert' }, message ?? ''));
    replace(checkResultBox, state.checkView());
    checkResultBox.dataset.signature = signature;
  }
  checkResultBox.dataset.state = state0 ?? 'error';
  if (keepPolling) setTimeout(() => void runCheck(hash, file, false, startedAt), waitMs);
}

function stepText(s: CheckResult['steps'][number]): string {
  return t(s.key, s.params ?? {});
}

function checkView(r: CheckResult, polling: boolean, hash: string, file: Receipt | null): Node {
  const b = r.bundle;
  const o = r.outcome;
  const statusLine = h('p', {},
    t('check.serverSays'), ' ',
    statusBadge(b.status, t(`check.badge.${b.status}` as Key)), ' ',
    b.status === 'pending' ? t('check.status.pending') : b.status === 'sealed' ? t('check.status.sealed', { index: b.window?.index ?? '?' }) : t('check.status.anchored'),
  );
  let banner: HTMLElement;
  if (o.state === 'failed') {
    banner = h('div', { class: 'notice bad', role: 'alert', 'data-testid': 'check-outcome' },
      h('strong', {}, t('check.failed', { reason: t(o.reason, o.params) })),
      o.reason === 'check.fail.noRpc' || o.reason === 'check.fail.noContract' || o.reason === 'check.fail.chain' ? null : h('p', {}, t('check.failedAdvice')),
    );
  } else if (o.state === 'verified') {
    banner = h('div', { class: 'notice ok', role: 'status', 'data-testid': 'check-outcome' }, h('strong', {}, t('check.ok')));
  } else {
    banner = h('div', { class: 'notice warn', role: 'status', 'data-testid': 'check-outcome' },
      h('strong', {}, t(o.state === 'sealed' ? 'check.okSealed' : 'check.okPending')),
      polling ? h('p', {}, t('check.waiting')) : null,
    );
  }
  const details = h('dl', { class: 'kv' },
    h('dt', {}, t('receipt.hash')), h('dd', {}, hexCode(b.receipt.ballotHash)),
    h('dt', {}, t('receipt.seq')), h('dd', {}, String(b.receipt.seq)),
    h('dt', {}, t('receipt.receivedAt')), h('dd', {}, formatDate(b.receipt.receivedAt)),
  );
  if (b.window) append(details, h('dt', {}, t('check.window')), h('dd', {}, String(b.window.index)));
  if (o.state === 'verified') {
    append(details,
      h('dt', {}, t('check.chainRoot')), h('dd', {}, hexCode(o.chainWindow.root)),
      h('dt', {}, t('check.anchoredAt')), h('dd', {}, formatDate(new Date(o.chainWindow.anchoredAt * 1000).toISOString())),
    );
  }
  if (b.anchor) {
    append(details,
      h('dt', {}, t('check.tx')), h('dd', {}, hexCode(b.anchor.txHash, { 'data-testid': 'anchor-tx' })),
      h('dt', {}, t('check.block')), h('dd', {}, String(b.anchor.blockNumber ?? '?')),
    );
  }
  const rpc = rpcInput.value.trim() || '<chain JSON-RPC URL>';
  const contract = contractInput.value.trim() || '<contract address>';
  const cli = h('details', {},
    h('summary', {}, t('check.cli')),
    h('pre', { class: 'cmd' }, `npx tallyproof-verify receipt ${b.receipt.ballotHash} \\\n  --api ${location.origin} --rpc ${rpc} --contract ${contract}`),
  );
  return h('div', {},
    statusLine,
    banner,
    h('ul', { class: 'checks' }, ...r.steps.map((s) => h('li', { class: s.ok === null ? 'info' : s.ok ? 'ok' : 'bad' }, stepText(s)))),
    details,
    polling || o.state === 'failed' ? null : h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => void runCheck(hash, file, true) }, t('check.again'))),
    cli,
  );
}

// ---------------------------------------------------------------------------------------------
// start

initI18n();
onLanguageChange(() => {
  renderElectionSummary();
  renderContests();
  if (!$('#step-review').hidden) renderReview();
  if (state.receiptView && !$('#step-receipt').hidden) replace($('#receipt-box'), state.receiptView());
  if (state.checkView && checkResultBox.childElementCount > 0) replace(checkResultBox, state.checkView());
  if (!$('#cred-line-box').hidden && !lineNumber.hidden) $('#cred-line-label').textContent = t('cred.lineNumberLabel', { n: fileLines.length });
});

void (async () => {
  const params = new URLSearchParams(location.search);
  const list = await listElections();
  if (list) replace($('#election-list'), ...list.map((e) => h('option', { value: e.electionId }, e.title)));
  const fromUrl = params.get('election');
  const only = list && list.length === 1 ? list[0]!.electionId : null;
  const initial = fromUrl ?? only;
  if (initial) {
    electionInput.value = initial;
    await loadElection(initial, false);
  }
  const receipt = params.get('receipt');
  if (receipt && isHex(receipt, 32)) {
    checkHash.value = receipt;
    void runCheck(receipt, null, true);
  }
})();
