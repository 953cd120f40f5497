// "Verify it yourself": the verifier CLI's commands for this election, this server and this chain.
import { $ } from '../dom.js';
import { typedContract, typedRpcUrl } from './chain-settings.js';
import { state } from './state.js';

export function renderVerifyCommand(): void {
  if (!state.election) return;
  const id = state.election.manifest.electionId;
  const rpc = typedRpcUrl() || '<chain JSON-RPC URL>';
  const contract = typedContract() || '<contract address>';
  $('#verify-cmd').textContent = [
    `npx tallyproof-verify audit --api ${location.origin} --election ${id} \\`,
    `  --rpc ${rpc} --contract ${contract}`,
    `npx tallyproof-verify roots --election ${id} --rpc ${rpc} --contract ${contract}`,
  ].join('\n');
}
