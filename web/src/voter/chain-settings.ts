// "Chain settings" under "Check my receipt": the chain's JSON-RPC URL and the contract address the check
// reads the anchored root from. Filled from the election unless the user has edited them; the RPC URL the
// user types is kept (localStorage) for elections whose server publishes none.
import type { ElectionInfo } from '../api.js';
import { $ } from '../dom.js';

const RPC_STORAGE = 'tallyproof.rpcUrl';

const rpcInput = $<HTMLInputElement>('#rpc-url');
const contractInput = $<HTMLInputElement>('#contract-address');
let rpcEdited = false;
let contractEdited = false;

/** The RPC URL as typed, trimmed ('' when empty). */
export function typedRpcUrl(): string {
  return rpcInput.value.trim();
}

/** The contract address as typed, trimmed ('' when empty). */
export function typedContract(): string {
  return contractInput.value.trim();
}

/** Take the election's RPC URL (else the saved one) and contract, unless the user has edited them. */
export function fillChainSettings(e: ElectionInfo): void {
  if (!rpcEdited) {
    let saved: string | null = null;
    try {
      saved = localStorage.getItem(RPC_STORAGE);
    } catch {
      saved = null;
    }
    rpcInput.value = e.chainRpcUrl ?? saved ?? rpcInput.value;
  }
  if (!contractEdited && e.contract) contractInput.value = e.contract;
}

export function wireChainSettings(): void {
  rpcInput.addEventListener('change', () => {
    rpcEdited = true;
    try {
      localStorage.setItem(RPC_STORAGE, rpcInput.value.trim());
    } catch {
      // not kept
    }
  });
  contractInput.addEventListener('change', () => {
    contractEdited = true;
  });
}
