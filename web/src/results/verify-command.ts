// "Verify it yourself": the verifier CLI's commands for this election, this server and this chain.
import { $ } from '../dom.js';
import { typedContract, typedRpcUrl } from './chain-settings.js';
import { state } from './state.js';

/** `tallyproof-verify audit` for this election: recounts the ledger, checks every root and, once closed, the result. */
export function auditCommand(): string {
  const id = state.election?.manifest.electionId ?? '<election>';
  const rpc = typedRpcUrl() || '<chain JSON-RPC URL>';
  const contract = typedContract() || '<contract address>';
  return [
    `npx tallyproof-verify audit --api ${location.origin} --election ${id} \\`,
    `  --rpc ${rpc} --contract ${contract}`,
  ].join('\n');
}

export function renderVerifyCommand(): void {
  if (!state.election) return;
  const id = state.election.manifest.electionId;
  const rpc = typedRpcUrl() || '<chain JSON-RPC URL>';
  const contract = typedContract() || '<contract address>';
  $('#verify-cmd').textContent = [
    auditCommand(),
    `npx tallyproof-verify roots --election ${id} --rpc ${rpc} --contract ${contract}`,
  ].join('\n');
  // The close section shows the audit command too: keep it in step with the chain settings.
  const closeCmd = document.querySelector('#close-audit-cmd');
  if (closeCmd) closeCmd.textContent = auditCommand();
}
