// The results page: the live tally (Server-Sent Events), ballots counted and anchored, every window
// with its root looked up on the chain, the close as it happened, and how to verify all of it
// independently. One module per part in results/; this file wires them: the election picked
// (/results/{id} or the form), the first load, the election's status kept current, the chain settings
// and the language switch.
import { ApiError, getElection, getResults } from './api.js';
import { $, h, replace } from './dom.js';
import { initI18n, onLanguageChange, t, type Key } from './i18n.js';
import { ID_PATTERN } from './protocol.js';
import { fillChainSettings, wireChainSettings } from './results/chain-settings.js';
import { renderClose } from './results/close.js';
import { state } from './results/state.js';
import { applyResults, connectStream, renderContests, renderLive } from './results/tally.js';
import { renderVerifyCommand } from './results/verify-command.js';
import { forgetChainRoots, lookUpOnChain, refreshWindows, renderWindows } from './results/windows.js';
import { renderEncrypted, wireEncryptedResults } from './v2/results-ui.js';

function electionIdFromUrl(): string | null {
  const m = /^\/results\/([^/]+)\/?$/.exec(location.pathname);
  if (m) return decodeURIComponent(m[1]!);
  return new URLSearchParams(location.search).get('election');
}

/** The status badge, "Live" only while the election is open, and the close once there is one. */
function renderStatus(): void {
  const election = state.election;
  if (!election) return;
  replace(
    $('#status-badge'),
    h('span', { class: `badge ${election.status}` }, t(`election.status.${election.status}` as Key)),
  );
  // The stream keeps running (the last window's anchoring still moves "anchored"), but nothing is live.
  $('#live').hidden = election.status !== 'open';
  renderClose();
  // An encrypted election: what the trustees' decryption is waiting for, and the check of its counts.
  renderEncrypted();
}

function renderAll(): void {
  const election = state.election;
  if (!election) return;
  $('#title').textContent = election.manifest.title;
  document.title = `Tallyproof — ${election.manifest.title}`;
  renderStatus();
  renderLive();
  renderContests();
  renderWindows();
  renderVerifyCommand();
}

/** Re-read the election while its status can still change: at opensAt/closesAt, an admin close, the close tx. */
const STATUS_POLL_MS = 15_000;
/** Once closed, the result and closeTx come within seconds (the anchor worker's close). */
const CLOSING_POLL_MS = 3_000;
let statusTimer: number | undefined;

function scheduleStatusRefresh(): void {
  clearTimeout(statusTimer);
  const e = state.election;
  if (!e || (e.status === 'closed' && e.result && e.closeTx)) return;
  let delay = e.status === 'closed' ? CLOSING_POLL_MS : STATUS_POLL_MS;
  // Just after the next scheduled change, rather than up to a poll period late.
  const next = Date.parse(e.status === 'scheduled' ? e.manifest.opensAt : e.manifest.closesAt) - Date.now() + 500;
  if (e.status !== 'closed' && next > 0) delay = Math.min(delay, next);
  statusTimer = window.setTimeout(() => void refreshStatus(e.manifest.electionId), delay);
}

async function refreshStatus(id: string): Promise<void> {
  try {
    const e = await getElection(id);
    if (state.election?.manifest.electionId !== id) return;
    state.election = e;
    renderStatus();
  } catch {
    // Kept as shown; the next poll tries again.
  }
  scheduleStatusRefresh();
}

async function load(id: string): Promise<void> {
  const pickError = $('#pick-error');
  if (!ID_PATTERN.test(id)) {
    pickError.textContent = t('election.invalidId');
    pickError.hidden = false;
    $('#pick-form').hidden = false;
    return;
  }
  try {
    state.election = await getElection(id);
  } catch (err) {
    $('#title').textContent = t('results.title');
    pickError.textContent =
      err instanceof ApiError && err.status === 404 ? t('results.unknown', { id }) : (err as Error).message;
    pickError.hidden = false;
    $('#pick-form').hidden = false;
    return;
  }
  fillChainSettings(state.election);
  $<HTMLAnchorElement>('#nav-vote').href = `/?election=${encodeURIComponent(id)}`;
  $<HTMLAnchorElement>('#nav-check').href = `/?election=${encodeURIComponent(id)}#check`;
  $('#pick-form').hidden = true;
  $('#results').hidden = false;
  try {
    state.results = await getResults(id);
  } catch {
    state.results = null;
  }
  renderAll();
  scheduleStatusRefresh();
  connectStream(id);
  await refreshWindows();
}

wireEncryptedResults(applyResults);
wireChainSettings(() => {
  forgetChainRoots();
  renderVerifyCommand();
  void lookUpOnChain();
});

initI18n();
onLanguageChange(renderAll);
$<HTMLFormElement>('#pick-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = $<HTMLInputElement>('#pick-id').value.trim();
  if (ID_PATTERN.test(id)) location.assign(`/results/${encodeURIComponent(id)}`);
  else void load(id);
});

const initial = electionIdFromUrl();
if (initial) {
  void load(initial);
} else {
  $('#title').textContent = t('results.title');
  $('#pick-form').hidden = false;
}
