// The chain's JSON-RPC URL and the contract address the windows' roots are read from: filled from the
// election (the RPC URL, else the one the user typed last, kept in localStorage).
import type { ElectionInfo } from '../api.js';
import { $ } from '../dom.js';

const RPC_STORAGE = 'tallyproof.rpcUrl';

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

/** The election's RPC URL, else the saved one, and its contract. */
export function fillChainSettings(e: ElectionInfo): void {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(RPC_STORAGE);
  } catch {
    saved = null;
  }
  rpcInput.value = e.chainRpcUrl ?? saved ?? '';
  contractInput.value = e.contract ?? '';
}

/** On a change of either field: keep the RPC URL, then `onChange`. */
export function wireChainSettings(onChange: () => void): void {
  const changed = (): void => {
    try {
      localStorage.setItem(RPC_STORAGE, rpcInput.value.trim());
    } catch {
      // not kept
    }
    onChange();
  };
  rpcInput.addEventListener('change', changed);
  contractInput.addEventListener('change', changed);
}
