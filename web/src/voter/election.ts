// Step 1, the election: `?election=` or the input, GET /api/v1/elections/{id}, its summary (with the
// actual close time once closed, not the scheduled one), and the steps that follow opened (or kept
// closed when the election is).
import { ApiError, getElection, type ElectionInfo } from '../api.js';
import { $, h, hexCode, moreDetails, replace, reveal } from '../dom.js';
import { formatDate, t, type Key } from '../i18n.js';
import { ID_PATTERN } from '../protocol.js';
import { isManifestV2 } from '../v2/ballot.js';
import { leaveEncryptedReview } from '../v2/voter-ui.js';
import { fillChainSettings } from './chain-settings.js';
import { renderContests } from './choices.js';
import { resetCredential } from './credential.js';
import { onDelivery } from './outbox.js';
import { apiMessage, show, state, statusBadge } from './state.js';

const electionForm = $<HTMLFormElement>('#election-form');
const electionInput = $<HTMLInputElement>('#election-id');
const electionError = $('#election-error');
const electionSummary = $('#election-summary');

export function renderElectionSummary(): void {
  const e = state.election;
  if (!e) return;
  const m = e.manifest;
  const children: (Node | null)[] = [
    h('h3', {}, m.title, ' ', statusBadge(e.status, t(`election.status.${e.status}` as Key))),
    h('dl', { class: 'kv' }, h('dt', {}, t('election.opens')), h('dd', {}, formatDate(m.opensAt)), ...closeRow(e)),
    // Ordinary words first: the hashes and chain ids an auditor compares are one click away.
    moreDetails(
      t('common.details'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, t('election.manifestHash')),
        h('dd', {}, hexCode(e.manifestHash)),
        h('dt', {}, t('election.contract')),
        h('dd', {}, e.contract ? hexCode(e.contract) : t('common.none')),
        h('dt', {}, t('election.chain')),
        h('dd', {}, e.chainId === null ? t('common.none') : String(e.chainId)),
      ),
    ),
    h('p', {}, h('a', { href: `/results/${encodeURIComponent(m.electionId)}` }, t('election.resultsLink'))),
  ];
  if (isManifestV2(m)) {
    // Secret ballots: said before anything is chosen, and why voting waits for the trustees.
    children.push(
      h(
        'p',
        { class: 'notice', 'data-testid': 'secret-note' },
        t('v2.secretNote', { k: m.threshold, n: m.trustees.length }),
      ),
    );
    if (e.status !== 'closed' && !ceremonyComplete(e)) {
      children.push(h('p', { class: 'notice warn', 'data-testid': 'ceremony-pending' }, t('v2.ceremonyPending')));
    }
  }
  if (e.status === 'scheduled') {
    children.push(h('p', { class: 'notice warn' }, t('election.notOpen', { when: formatDate(m.opensAt) })));
  }
  if (e.status === 'closed') {
    const note = e.closedAt ? t('election.closedOn', { when: formatDate(e.closedAt) }) : t('election.closedNote');
    children.push(h('p', { class: 'notice warn', 'data-testid': 'closed-note' }, note));
  }
  replace(electionSummary, ...children);
  electionSummary.hidden = false;
}

/** An encrypted election can be voted in only once its key ceremony is complete (docs/protocol.md 12.3). */
function ceremonyComplete(e: ElectionInfo): boolean {
  return !isManifestV2(e.manifest) || (e.encryption?.keyCeremony === 'complete' && !!e.encryption.publicKey);
}

/** "Closes" and the schedule while open; once closed, when it actually closed (and the schedule, if it differs). */
function closeRow(e: ElectionInfo): HTMLElement[] {
  const scheduled = e.manifest.closesAt;
  if (!e.closedAt) return [h('dt', {}, t('election.closes')), h('dd', {}, formatDate(scheduled))];
  const early = Date.parse(e.closedAt) < Date.parse(scheduled);
  return [
    h('dt', {}, t('election.closed')),
    h(
      'dd',
      { 'data-testid': 'closed-at' },
      formatDate(e.closedAt),
      early ? ` ${t('election.scheduledClose', { when: formatDate(scheduled) })}` : null,
    ),
  ];
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
    const notFound = err instanceof ApiError && err.status === 404;
    show(electionError, notFound ? t('election.notFound', { id }) : apiMessage(err));
    if (focus) electionInput.focus();
    return;
  }
  // A new election: forget what belonged to the previous one.
  const changed = state.election?.manifest.electionId !== e.manifest.electionId;
  state.election = e;
  if (changed) {
    resetCredential();
    leaveEncryptedReview();
  }
  const url = new URL(location.href);
  url.searchParams.set('election', id);
  history.replaceState(null, '', url);
  const navResults = $<HTMLAnchorElement>('#nav-results');
  navResults.href = `/results/${encodeURIComponent(id)}`;
  navResults.hidden = false;
  renderElectionSummary();
  fillChainSettings(e);
  renderContests();
  if (e.status === 'closed' || !ceremonyComplete(e)) {
    for (const s of ['#step-credential', '#step-choices', '#step-review']) $(s).hidden = true;
    return;
  }
  reveal($('#step-credential'), focus);
  if (state.seed) reveal($('#step-choices'), false);
}

/** The election named in the page's URL: filled in and loaded, without moving the focus. */
export async function openElection(id: string): Promise<void> {
  electionInput.value = id;
  await loadElection(id, false);
}

/**
 * The summary as the election is now. Only the summary: the steps stay as they are, so that what the voter
 * is reading (a refusal, a receipt) does not vanish.
 */
async function refreshSummary(): Promise<void> {
  const id = state.election?.manifest.electionId;
  if (!id) return;
  try {
    const e = await getElection(id);
    if (state.election?.manifest.electionId !== id) return;
    state.election = e;
    renderElectionSummary();
  } catch {
    // Kept as shown.
  }
}

export function wireElectionStep(): void {
  electionForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void loadElection(electionInput.value.trim(), true);
  });
  // A ballot refused as too late: the election closed since the page loaded it, so the summary's
  // "Open" and scheduled close are out of date; show the actual close.
  onDelivery((_hash, d) => {
    if (d.kind === 'late' && state.election?.status !== 'closed') void refreshSummary();
  });
}
