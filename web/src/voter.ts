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
import { openElection, renderElectionSummary, wireElectionStep } from './voter/election.js';

wireElectionStep();
wireCredentialStep();
wireChoicesStep();
wireCastStep();
wireChainSettings();
wireCheckForm();

initI18n();
onLanguageChange(() => {
  renderElectionSummary();
  renderContests();
  if (!$('#step-review').hidden) renderReview();
  rerenderReceipt();
  rerenderCheck();
  relabelFileLines();
});

void (async () => {
  const params = new URLSearchParams(location.search);
  const election = params.get('election');
  if (election) await openElection(election);
  const receipt = params.get('receipt');
  if (receipt && isHex(receipt, 32)) checkFromUrl(receipt);
})();
