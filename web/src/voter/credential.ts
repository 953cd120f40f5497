// Step 2, the credential: a pasted seed (hex, or a line of a credentials file), a line picked from a
// credentials file, or the seed derived in the page from the voter secret (scrypt, with a progress bar).
// A key that does not match the credential written next to it is refused. A loaded key is then looked up
// on the election's roll (one request, not the roll) before the choices open, so that a mistyped secret is
// caught here and not at the cast; when the lookup cannot be made (offline, …) the voter goes on unchecked.
import { isOnRoll } from '../api.js';
import { $, h, replace, reveal } from '../dom.js';
import { onLanguageChange, t } from '../i18n.js';
import { deriveSeed, hexToBytes, isHex, publicKeyOf } from '../protocol.js';
import { show, state } from './state.js';

const credError = $('#cred-error');
const credLoaded = $('#cred-loaded');
const modeForms = {
  paste: $<HTMLFormElement>('#cred-paste'),
  file: $<HTMLFormElement>('#cred-file'),
  secret: $<HTMLFormElement>('#cred-secret'),
};

/** Forget the credential and what was chosen with it (another election was loaded). */
export function resetCredential(): void {
  rollCheck = null;
  checkSeq++;
  renderRollCheck();
  state.seed = null;
  state.credential = null;
  state.selections = null;
  credLoaded.hidden = true;
  for (const s of ['#step-choices', '#step-review', '#step-receipt']) $(s).hidden = true;
}

// The roll check of the key last loaded: in flight, found on the roll, not checkable now, or not on the roll
// (then the key is not kept). Kept as state so that a language change re-renders its text.
type RollCheck =
  | { kind: 'checking' | 'on-roll' | 'unchecked' }
  | { kind: 'not-on-roll'; derived: boolean; text: string };
let rollCheck: RollCheck | null = null;
/** Counts keys loaded: the answer of a superseded lookup is dropped. */
let checkSeq = 0;
/** A lookup that does not answer by then is given up, and the voter goes on unchecked. */
const ROLL_CHECK_TIMEOUT_MS = 10_000;
// A live region present from the start (one shown only when it changes may go unannounced).
const checkingRegion = h('div', { id: 'cred-checking', 'aria-live': 'polite' });
credError.before(checkingRegion);
const rollNote = h('p', { id: 'cred-roll' });
// Plain words first: the roll note goes right after the headline, before the key's details.
credLoaded.querySelector('strong')!.after(rollNote);

function renderRollCheck(): void {
  const kind = rollCheck?.kind;
  replace(checkingRegion, kind === 'checking' && h('p', { class: 'notice' }, t('cred.checking')));
  // The loaded note is green once the key is known to be on the roll, amber when it could not be checked.
  credLoaded.classList.toggle('ok', kind !== 'unchecked');
  credLoaded.classList.toggle('warn', kind === 'unchecked');
  show(rollNote, kind === 'on-roll' ? t('cred.onRoll') : kind === 'unchecked' ? t('cred.unchecked') : null);
  if (rollCheck?.kind === 'not-on-roll' && credError.textContent === rollCheck.text) {
    // Still the message on screen (no other error replaced it): say it in the new language.
    rollCheck.text = t(rollCheck.derived ? 'cred.notOnRollSecret' : 'cred.notOnRoll');
    show(credError, rollCheck.text);
  }
}

/**
 * Load a key: refused when it does not match the credential written next to it; then looked up on the roll
 * while the choices stay closed. On the roll, or not checkable now: the choices open. Not on the roll: the
 * key is dropped and the voter told why (for a derived key: the secret may be mistyped).
 */
async function useSeed(seed: Uint8Array, expectedCredential?: string, derived = false): Promise<void> {
  const credential = publicKeyOf(seed);
  if (expectedCredential !== undefined && expectedCredential !== credential) {
    show(credError, t('cred.mismatch', { credential: expectedCredential }));
    return;
  }
  show(credError, null);
  const seq = ++checkSeq;
  const election = state.election;
  // Nothing of an earlier key stays usable while this one is checked.
  state.seed = null;
  state.credential = null;
  credLoaded.hidden = true;
  for (const s of ['#step-choices', '#step-review', '#step-receipt']) $(s).hidden = true;
  rollCheck = { kind: 'checking' };
  renderRollCheck();
  let onRoll: boolean | null = null;
  if (election) {
    try {
      onRoll = await isOnRoll(election.manifest.electionId, credential, AbortSignal.timeout(ROLL_CHECK_TIMEOUT_MS));
    } catch {
      onRoll = null; // offline, rate limited, roll pending, …: the ballot route decides at the cast
    }
  }
  if (seq !== checkSeq) {
    seed.fill(0); // superseded by another key, or another election was loaded (resetCredential)
    return;
  }
  if (onRoll === false) {
    seed.fill(0);
    const text = t(derived ? 'cred.notOnRollSecret' : 'cred.notOnRoll');
    rollCheck = { kind: 'not-on-roll', derived, text };
    renderRollCheck();
    show(credError, text);
    // Back to what the voter typed or picked, to correct it.
    const input = derived ? $('#secret-input') : modeForms.paste.hidden ? null : $('#seed-input');
    input?.setAttribute('aria-invalid', 'true');
    (input ?? (lineNumber.hidden ? lineSelect : lineNumber)).focus();
    return;
  }
  rollCheck = { kind: onRoll ? 'on-roll' : 'unchecked' };
  renderRollCheck();
  state.seed = seed;
  state.credential = credential;
  $('#cred-public').textContent = credential;
  credLoaded.hidden = false;
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

function onPaste(ev: SubmitEvent): void {
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
  void useSeed(parsed.seed, parsed.credential);
}

// Credentials file: JSON lines {"credential":HEX32,"seed":HEX32}.
const fileLines: { credential: string; seed: string }[] = [];
const MAX_OPTIONS = 1000;
const lineSelect = $<HTMLSelectElement>('#cred-line');
const lineNumber = $<HTMLInputElement>('#cred-line-number');

async function onFileChosen(ev: Event): Promise<void> {
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
  // Past MAX_OPTIONS lines a <select> gets unwieldy: the voter types the line number instead.
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
    replace(
      lineSelect,
      ...fileLines.map((c, i) =>
        h('option', { value: String(i) }, `${i + 1}. ${c.credential.slice(0, 16)}…${c.credential.slice(-8)}`),
      ),
    );
  }
  $('#cred-line-box').hidden = false;
}

function onFileLineChosen(ev: SubmitEvent): void {
  ev.preventDefault();
  const index = lineNumber.hidden ? Number(lineSelect.value) : Number(lineNumber.value) - 1;
  const line = fileLines[index];
  if (!line) return;
  void useSeed(hexToBytes(line.seed), line.credential);
}

/** The line-number label names the file's line count: re-written on a language change. */
export function relabelFileLines(): void {
  if (!$('#cred-line-box').hidden && !lineNumber.hidden) {
    $('#cred-line-label').textContent = t('cred.lineNumberLabel', { n: fileLines.length });
  }
}

// Voter secret: scrypt in the page, with a progress bar (noble scryptAsync yields every few ms).
let deriving = false;
async function onSecret(ev: SubmitEvent): Promise<void> {
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
    // The button stays disabled while the key is looked up on the roll.
    await useSeed(seed, undefined, true);
  } finally {
    deriving = false;
    button.disabled = false;
  }
}

export function wireCredentialStep(): void {
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="cred-mode"]')) {
    radio.addEventListener('change', () => {
      for (const [mode, form] of Object.entries(modeForms)) form.hidden = mode !== radio.value;
      show(credError, null);
    });
  }
  modeForms.paste.addEventListener('submit', onPaste);
  $<HTMLInputElement>('#cred-file-input').addEventListener('change', onFileChosen);
  modeForms.file.addEventListener('submit', onFileLineChosen);
  modeForms.secret.addEventListener('submit', onSecret);
  onLanguageChange(renderRollCheck);
}

/**
 * After the cast: no private key left in the page's inputs (pasted seed, secret, the credentials file's
 * lines and its file input); the "loaded" note goes too, as there is no key loaded any more.
 */
export function clearKeyInputs(): void {
  for (const id of ['#seed-input', '#secret-input', '#cred-file-input', '#cred-line-number'])
    $<HTMLInputElement>(id).value = '';
  for (const line of fileLines) line.seed = '';
  fileLines.length = 0;
  replace(lineSelect);
  $('#cred-line-box').hidden = true;
  $('#derive-box').hidden = true;
  credLoaded.hidden = true;
}
