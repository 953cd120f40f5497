// The voter page: choose the election, load a credential, choose, review, sign in the browser, cast,
// keep the receipt, and check it against the chain. One module per step in voter/; this file wires
// them: the listeners, the language switch, and what the URL asks for (?election=, &receipt=).
import { $ } from './dom.js';
import { initI18n, onLanguageChange } from './i18n.js';
import { isHex } from './protocol.js';
import { rerenderReceipt, wireCastStep } from './voter/cast.js';
import { wireChainSettings } from './voter/chain-settings.js';
import { checkFromUrl, rerenderCheck, wireCheckForm } from './voter/check-ui.js';
import { renderContests, renderReview, wireChoicesStep } from './voter/choices.js';
import { relabelFileLines, wireCredentialStep } from './voter/credential.js';
import { renderDevice, wireDevice } from './voter/device.js';
import { openElection, renderElectionSummary, wireElectionStep } from './voter/election.js';
import { wireOutbox } from './voter/outbox.js';

wireElectionStep();
wireCredentialStep();
wireChoicesStep();
wireCastStep();
wireChainSettings();
wireCheckForm();
wireDevice();
wireOutbox();

// The page works offline after one visit: the service worker (src/sw.ts) keeps the page and the
// elections it loaded. Without one (an old browser, a private window) the page works as before, online.
if ('serviceWorker' in navigator) {
  // What this visit fetched before the worker took it over (the election) is handed to it to be cached.
  const handOver = (): void => {
    const urls = performance
      .getEntriesByType('resource')
      .map((r) => r.name)
      .filter((u) => /\/api\/v1\/elections\/[a-z0-9-]+$/.test(u));
    navigator.serviceWorker.controller?.postMessage({ type: 'cache', urls });
  };
  navigator.serviceWorker.addEventListener('controllerchange', handOver);
  navigator.serviceWorker.register('/sw.js').catch((err: Error) => console.warn(`no offline mode: ${err.message}`));
}

initI18n();
onLanguageChange(() => {
  renderElectionSummary();
  renderContests();
  if (!$('#step-review').hidden) renderReview();
  rerenderReceipt();
  rerenderCheck();
  relabelFileLines();
  void renderDevice();
});

void (async () => {
  const params = new URLSearchParams(location.search);
  const election = params.get('election');
  if (election) await openElection(election);
  const receipt = params.get('receipt');
  if (receipt && isHex(receipt, 32)) checkFromUrl(receipt);
})();
