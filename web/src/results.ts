// The results page: the live tally (Server-Sent Events), ballots counted and anchored, every window
// with its root looked up on the chain, and how to verify all of it independently. One module per part
// in results/; this file wires them: the election picked (/results/{id} or the form), the first load,
// the chain settings and the language switch.
import { ApiError, getElection, getResults } from './api.js';
import { $, h, replace } from './dom.js';
import { initI18n, onLanguageChange, t, type Key } from './i18n.js';
import { ID_PATTERN } from './protocol.js';
import { fillChainSettings, wireChainSettings } from './results/chain-settings.js';
import { state } from './results/state.js';
import { connectStream, renderContests, renderLive } from './results/tally.js';
import { renderVerifyCommand } from './results/verify-command.js';
import { forgetChainRoots, lookUpOnChain, refreshWindows, renderWindows } from './results/windows.js';

function electionIdFromUrl(): string | null {
  const m = /^\/results\/([^/]+)\/?$/.exec(location.pathname);
  if (m) return decodeURIComponent(m[1]!);
  return new URLSearchParams(location.search).get('election');
}

function renderAll(): void {
  const election = state.election;
  if (!election) return;
  $('#title').textContent = election.manifest.title;
  document.title = `Tallyproof — ${election.manifest.title}`;
  replace(
    $('#status-badge'),
    h('span', { class: `badge ${election.status}` }, t(`election.status.${election.status}` as Key)),
  );
  renderLive();
  renderContests();
  renderWindows();
  renderVerifyCommand();
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
  connectStream(id);
  await refreshWindows();
}

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
