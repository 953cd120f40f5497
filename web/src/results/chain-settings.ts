// The chain's JSON-RPC URL and the contract address the windows' roots are read from: the RPC URL the
// user typed last (kept in localStorage) wins over the election's (rpc-url.ts); the contract is the election's.
import type { ElectionInfo } from '../api.js';
import { $ } from '../dom.js';
import { chooseRpcUrl, savedRpcUrl, saveRpcUrl } from '../rpc-url.js';

const rpcInput = $<HTMLInputElement>('#rpc-url');
const contractInput = $<HTMLInputElement>('#contract-address');

/** The RPC URL as typed, trimmed ('' when empty). */
export function typedRpcUrl(): string {
  return rpcInput.value.trim();
}

/** The contract address as typed, trimmed ('' when empty). */
export function typedContract(): string {
  return contractInput.value.trim();
}

/** The saved RPC URL, else the election's, and the election's contract. */
export function fillChainSettings(e: ElectionInfo): void {
  rpcInput.value = chooseRpcUrl(savedRpcUrl(), e.chainRpcUrl);
  contractInput.value = e.contract ?? '';
}

/** On a change of either field: keep the RPC URL, then `onChange`. */
export function wireChainSettings(onChange: () => void): void {
  const changed = (): void => {
    saveRpcUrl(rpcInput.value);
    onChange();
  };
  rpcInput.addEventListener('change', changed);
  contractInput.addEventListener('change', changed);
}
