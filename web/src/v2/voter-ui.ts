// The voter page for an encrypted election (docs/protocol.md 12.4, 12.8): once the choices are reviewed the
// page encrypts and proves the ballot (with a progress bar: a second or two on a phone), signs it, and shows
// its ballot hash with two actions. "Cast this ballot" sends it as a version 1 ballot is sent (the outbox,
// the receipt). "Audit it" opens it on the page (what it encrypted, checked against the voter's choices),
// offers the opening file, throws it away and encrypts again with new randomness: an audited ballot is
// never cast (BenalohDevice refuses to hand it out).
import { $, download, h, hexCode, moreDetails, replace } from '../dom.js';
import { onLanguageChange, t } from '../i18n.js';
import type { Selections } from '../protocol.js';
import { chosenIn, chosenLabels } from '../selections.js';
import { castSubmission } from '../voter/cast.js';
import { apiMessage, state } from '../voter/state.js';
import { checkAuditedBallot, isManifestV2, type AuditedBallotFile, type ElectionKeyContext } from './ballot.js';
import { BenalohDevice } from './benaloh.js';

const device = new BenalohDevice();

/** What the box shows now; re-rendered on a language change. */
type View =
  | { kind: 'hidden' }
  | { kind: 'encrypting'; fraction: number }
  | { kind: 'failed'; message: string }
  | { kind: 'ready'; ballotHash: string; casting: boolean };

let view: View = { kind: 'hidden' };
/** The last audited ballot and what the page found in it, shown above the new encryption. */
let audited: {
  file: AuditedBallotFile;
  /** What it encrypted, when the opening checks. */
  selections: Selections | null;
  problem: string | null;
  mismatch: boolean;
} | null = null;

/** The election in hand, when it is an encrypted one whose key ceremony is complete. */
function keyContext(): ElectionKeyContext | null {
  const e = state.election;
  if (!e || !isManifestV2(e.manifest) || e.encryption?.keyCeremony !== 'complete' || !e.encryption.publicKey)
    return null;
  return { manifest: e.manifest, manifestHash: e.manifestHash, publicKey: e.encryption.publicKey };
}

export function isEncryptedElection(): boolean {
  const e = state.election;
  return !!e && isManifestV2(e.manifest);
}

/** The box of the review step (created once, before the cast error), and the audit box above it. */
function boxes(): { box: HTMLElement; auditBox: HTMLElement } {
  let box = document.querySelector<HTMLElement>('#encrypted-box');
  let auditBox = document.querySelector<HTMLElement>('#audit-box');
  if (!box || !auditBox) {
    auditBox = h('div', { id: 'audit-box', hidden: true });
    box = h('div', { id: 'encrypted-box', class: 'encrypted', hidden: true });
    $('#cast-error').before(auditBox, box);
  }
  return { box, auditBox };
}

function render(): void {
  const { box, auditBox } = boxes();
  $('#cast-button').hidden = view.kind !== 'hidden';
  box.hidden = view.kind === 'hidden';
  auditBox.hidden = view.kind === 'hidden' || audited === null;
  switch (view.kind) {
    case 'hidden':
      return;
    case 'encrypting': {
      const percent = Math.round(view.fraction * 100);
      replace(
        box,
        h('progress', { max: 100, value: percent, 'aria-label': t('v2.progressLabel') }),
        h('p', { class: 'help', 'aria-live': 'polite', 'data-testid': 'encrypting' }, t('v2.encrypting', { percent })),
      );
      return;
    }
    case 'failed':
      replace(
        box,
        h('p', { class: 'notice bad', role: 'alert' }, t('v2.encryptFailed', { message: view.message })),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', onclick: () => void encrypt() }, t('v2.encryptAgain')),
        ),
      );
      return;
    case 'ready':
      replace(
        box,
        h(
          'div',
          { class: 'notice ok', role: 'status' },
          h('strong', {}, t('v2.readyTitle')),
          h('p', {}, t('v2.readyHash')),
          hexCode(view.ballotHash, { 'data-testid': 'ballot-hash' }),
        ),
        h('p', {}, t('v2.choose')),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', id: 'audit-button', disabled: view.casting, onclick: onAudit }, t('v2.audit')),
          h(
            'button',
            { type: 'button', class: 'primary', id: 'cast-encrypted-button', disabled: view.casting, onclick: onCast },
            view.casting ? t('v2.casting') : t('v2.cast'),
          ),
        ),
      );
      return;
  }
}

function setView(next: View): void {
  view = next;
  render();
}

/** Encrypt the reviewed selections afresh (new randomness), replacing any ballot in hand. */
async function encrypt(): Promise<void> {
  const ctx = keyContext();
  const seed = state.seed;
  const selections = state.selections;
  if (!seed || !selections) {
    // The key was cleared (the ballot was cast or kept): nothing to encrypt.
    setView({ kind: 'hidden' });
    return;
  }
  if (!ctx) {
    setView({ kind: 'failed', message: t('v2.ceremonyPending') });
    return;
  }
  setView({ kind: 'encrypting', fraction: 0 });
  let last = -1;
  try {
    const ballot = await device.prepare(ctx, seed, selections, (fraction) => {
      // Repaint at whole percents only.
      const percent = Math.floor(fraction * 100);
      if (percent === last) return;
      last = percent;
      if (view.kind === 'encrypting') setView({ kind: 'encrypting', fraction });
    });
    if (ballot) setView({ kind: 'ready', ballotHash: ballot.ballotHash, casting: false });
  } catch (err) {
    setView({ kind: 'failed', message: apiMessage(err) });
  }
}

async function onCast(): Promise<void> {
  if (view.kind !== 'ready' || view.casting) return;
  let taken: ReturnType<BenalohDevice['takeForCast']>;
  try {
    taken = device.takeForCast();
  } catch (err) {
    setView({ kind: 'failed', message: (err as Error).message });
    return;
  }
  setView({ ...view, casting: true });
  const outcome = await castSubmission(taken.submission, taken.ballotHash);
  if (outcome === 'answered') {
    audited = null;
    setView({ kind: 'hidden' });
    renderAudit();
    return;
  }
  // Refused here and now, the key still loaded: a cast ballot is never audited, so the next attempt is a new
  // encryption (the refusal stays shown under it).
  await encrypt();
}

function sameSelections(a: Selections, b: Selections | null): boolean {
  const contests = state.election?.manifest.contests ?? [];
  return contests.every((c) => {
    const x = [...(chosenIn(a, c.id) ?? [])].sort().join('\n');
    const y = [...(chosenIn(b, c.id) ?? [])].sort().join('\n');
    return x === y;
  });
}

function onAudit(): void {
  const ctx = keyContext();
  if (!ctx || view.kind !== 'ready') return;
  const file = device.audit();
  const check = checkAuditedBallot(file, ctx);
  audited = {
    file,
    selections: check.ok ? check.selections : null,
    problem: check.ok ? null : [check.reason, check.contest, check.choice].filter(Boolean).join(', '),
    mismatch: check.ok && !sameSelections(check.selections, state.selections),
  };
  void encrypt();
  renderAudit();
  $('#audit-box').querySelector<HTMLElement>('h3')?.focus();
}

/** The audited ballot's box, rendered when it changes (not on every progress step: it holds the focus). */
function renderAudit(): void {
  const { auditBox } = boxes();
  if (audited) replace(auditBox, auditView(audited));
  else replace(auditBox);
  auditBox.hidden = view.kind === 'hidden' || audited === null;
}

function auditView(a: NonNullable<typeof audited>): Node {
  const ok = a.problem === null && !a.mismatch;
  const rows: Node[] = [];
  if (a.selections && state.election) {
    for (const c of state.election.manifest.contests) {
      const labels = chosenLabels(c, a.selections);
      rows.push(
        h('dt', {}, c.title),
        h('dd', {}, labels.length > 0 ? labels.join(', ') : h('em', {}, t('review.blank'))),
      );
    }
  }
  const name = `tallyproof-audited-ballot-${a.file.ballotHash.slice(0, 12)}.json`;
  const save = (): void => download(name, `${JSON.stringify(a.file, null, 2)}\n`);
  return h(
    'div',
    { class: 'card audit', 'data-testid': 'audit-result' },
    h('h3', { tabindex: -1 }, t('v2.auditTitle')),
    h(
      'p',
      { class: `notice ${ok ? 'ok' : 'bad'}`, role: ok ? 'status' : 'alert', 'data-testid': 'audit-verdict' },
      a.problem !== null
        ? t('v2.auditBad', { reason: a.problem })
        : a.mismatch
          ? t('v2.auditMismatch')
          : t('v2.auditOk'),
    ),
    rows.length > 0 ? h('p', {}, h('strong', {}, t('v2.auditEncrypted'))) : null,
    rows.length > 0 ? h('dl', { class: 'kv', 'data-testid': 'audit-selections' }, ...rows) : null,
    h('p', { class: 'help' }, t('v2.neverCast')),
    moreDetails(
      t('common.details'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, t('v2.auditHash')),
        h('dd', {}, hexCode(a.file.ballotHash, { 'data-testid': 'audited-hash' })),
      ),
      h('p', {}, t('v2.auditCli')),
      h('pre', { class: 'cmd' }, `npx tallyproof-verify audited-ballot ${name} --api ${location.origin}`),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: save }, t('v2.auditDownload'))),
    h('p', { class: 'help' }, t('v2.auditNext')),
  );
}

/** The review step of an encrypted election has just opened: encrypt the reviewed choices. */
export function startEncryptedReview(): void {
  audited = null;
  renderAudit();
  void encrypt();
}

/** The voter went back to the choices (or the election changed): the ballot in hand is thrown away. */
export function leaveEncryptedReview(): void {
  device.discard();
  audited = null;
  setView({ kind: 'hidden' });
  renderAudit();
}

export function wireEncryptedReview(): void {
  onLanguageChange(() => {
    if (view.kind === 'hidden') return;
    render();
    renderAudit();
  });
}
