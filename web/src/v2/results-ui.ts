// The results page for an encrypted election (docs/protocol.md 12.6): turnout is live, the counts come only
// after K trustees have decrypted. Once they are published the page checks them itself before it marks them
// "verified": the transcript (election key and verification keys from the commitments), the aggregate's
// hash, every decryption share of the trustees used, and the recombined counts (tally-check.ts). It does
// not re-verify every ballot: the full audit is `tallyproof-verify audit`, whose command is shown.
import { ApiError, getAggregate, getDecryption, getResults, getTrusteeMessages, type Results } from '../api.js';
import { $, h, moreDetails, replace } from '../dom.js';
import { formatNumber, t, type Key } from '../i18n.js';
import { state } from '../results/state.js';
import { auditCommand } from '../results/verify-command.js';
import { isManifestV2 } from './ballot.js';
import { checkDecryptedTally, type TallyCheck } from './tally-check.js';

/** The check of the published counts: running (with its progress), done, or not possible just now. */
type CheckState =
  | { kind: 'none' }
  | { kind: 'running'; fraction: number }
  | { kind: 'done'; result: TallyCheck }
  | { kind: 'unchecked'; message: string };

let check: CheckState = { kind: 'none' };
/** Which published result the check is about (a new decryption is checked again). */
let checkedFor = '';
let pollTimer: number | undefined;

export function isEncryptedResults(): boolean {
  const e = state.election;
  return !!e && isManifestV2(e.manifest);
}

/** Counts not published yet (the election is open, or the trustees have not all decrypted). */
export function countsPending(): boolean {
  return isEncryptedResults() && (state.results?.tally ?? null) === null;
}

function card(): HTMLElement {
  let el = document.querySelector<HTMLElement>('#encrypted-section');
  if (!el) {
    el = h('section', { class: 'card', id: 'encrypted-section', 'aria-labelledby': 'h-encrypted', hidden: true });
    $('#contests').before(el);
  }
  return el;
}

function failureReason(r: Extract<TallyCheck, { ok: false }>): string {
  return t(`v2.fail.${r.code}` as Key, r.params);
}

function checkView(): Node[] {
  switch (check.kind) {
    case 'none':
      return [];
    case 'running': {
      const percent = Math.round(check.fraction * 100);
      return [
        h('progress', { max: 100, value: percent, 'aria-label': t('v2.results.progressLabel') }),
        h('p', { class: 'help', 'aria-live': 'polite' }, t('v2.results.checking', { percent })),
      ];
    }
    case 'unchecked':
      return [
        h(
          'p',
          { class: 'notice warn', role: 'status', 'data-testid': 'tally-check' },
          t('v2.results.unchecked', { message: check.message }),
        ),
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: retry }, t('v2.results.retry'))),
      ];
    case 'done': {
      const r = check.result;
      if (r.ok) {
        return [
          h(
            'div',
            { class: 'notice ok', role: 'status', 'data-testid': 'tally-check', 'data-verified': 'true' },
            h('strong', { class: 'verified-mark' }, t('v2.results.verified')),
            h(
              'p',
              {},
              t('v2.results.verifiedBody', { shares: formatNumber(r.sharesChecked), trustees: r.trustees.join(', ') }),
            ),
          ),
        ];
      }
      return [
        h(
          'div',
          { class: 'notice bad', role: 'alert', 'data-testid': 'tally-check', 'data-verified': 'false' },
          h('strong', {}, t('v2.results.notVerified')),
          h('p', {}, t('v2.results.notVerifiedBody', { reason: failureReason(r) })),
        ),
      ];
    }
  }
}

/** The card: what is known (turnout, the trustees awaited) and, once counts are published, their check. */
export function renderEncrypted(): void {
  const e = state.election;
  const el = card();
  if (!e || !isManifestV2(e.manifest)) {
    el.hidden = true;
    return;
  }
  const m = e.manifest;
  const results = state.results;
  const children: (Node | null)[] = [h('h2', { id: 'h-encrypted' }, t('v2.results.heading'))];
  if (countsPending()) {
    children.push(
      h(
        'p',
        { class: 'notice', 'data-testid': 'counts-pending' },
        t('v2.results.pending', { k: m.threshold, n: m.trustees.length }),
      ),
      h('p', { class: 'help' }, t('v2.results.turnout')),
    );
    const d = results?.decryption;
    if (d) children.push(h('p', {}, t('v2.results.waiting', { received: d.received.length, k: d.threshold })));
  } else {
    children.push(...checkView(), h('p', { class: 'help' }, t('v2.results.noBlank')));
  }
  children.push(
    moreDetails(t('common.details'), h('p', {}, t('v2.results.fullAudit')), h('pre', { class: 'cmd' }, auditCommand())),
  );
  replace(el, ...children);
  el.hidden = false;
  void maybeCheck();
  schedulePoll();
}

function setCheck(next: CheckState): void {
  check = next;
  renderEncrypted();
}

/** Check the published counts once per published result. */
async function maybeCheck(): Promise<void> {
  const e = state.election;
  const results = state.results;
  if (!e || !isManifestV2(e.manifest) || !results || results.tally === null) return;
  const key = `${e.manifest.electionId}:${results.decryption?.aggregateHash ?? ''}:${results.totalBallots}`;
  if (key === checkedFor) return;
  checkedFor = key;
  await runCheck();
}

function retry(): void {
  checkedFor = '';
  void maybeCheck();
}

async function runCheck(): Promise<void> {
  const e = state.election;
  const results = state.results;
  if (!e || !isManifestV2(e.manifest) || !results) return;
  const id = e.manifest.electionId;
  setCheck({ kind: 'running', fraction: 0 });
  let lastPercent = 0;
  try {
    const [transcript, aggregate, decryption] = await Promise.all([
      getTrusteeMessages(id),
      getAggregate(id),
      getDecryption(id),
    ]);
    const result = await checkDecryptedTally(
      {
        manifest: e.manifest,
        manifestHash: e.manifestHash,
        transcript,
        aggregate,
        decryption,
        publishedKey: e.encryption?.publicKey ?? null,
        shownTally: results.tally,
        resultHash: e.result?.resultHash ?? null,
      },
      (fraction) => {
        const percent = Math.floor(fraction * 100);
        if (percent === lastPercent || check.kind !== 'running') return;
        lastPercent = percent;
        setCheck({ kind: 'running', fraction });
      },
    );
    if (state.election?.manifest.electionId !== id) return;
    setCheck({ kind: 'done', result });
  } catch (err) {
    checkedFor = '';
    setCheck({ kind: 'unchecked', message: err instanceof ApiError ? `${err.message} (${err.code})` : String(err) });
  }
}

/**
 * While the election is closed and the counts are not published, read the results every few seconds: the
 * decryption completes when the K-th trustee posts, whether or not the stream says so.
 */
function schedulePoll(): void {
  const e = state.election;
  if (pollTimer !== undefined || !e || e.status !== 'closed' || !countsPending()) return;
  pollTimer = window.setTimeout(async () => {
    pollTimer = undefined;
    try {
      const r: Results = await getResults(e.manifest.electionId);
      if (state.election?.manifest.electionId === e.manifest.electionId && r.tally !== null) onPolledResults?.(r);
    } catch {
      // Tried again at the next poll.
    }
    schedulePoll();
  }, 3_000);
}

let onPolledResults: ((r: Results) => void) | null = null;

/** How the page takes results read by the poll (the tally's own update path). */
export function wireEncryptedResults(apply: (r: Results) => void): void {
  onPolledResults = apply;
}
