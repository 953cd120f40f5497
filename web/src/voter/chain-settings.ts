// "Chain settings" under "Check my receipt": the chain's JSON-RPC URL and the contract address the check
// reads the anchored root from. Filled from the election unless the user has edited them; the RPC URL the
// user types is kept (localStorage) and wins over the election's (rpc-url.ts). Also where the windows' tiles are
// read (tiles-url.ts): empty is this origin's API; `?tiles=` fills it for this visit, what the user types is kept.
import type { ElectionInfo } from '../api.js';
import { $ } from '../dom.js';
import { chooseRpcUrl, savedRpcUrl, saveRpcUrl } from '../rpc-url.js';
import { DEFAULT_TILES_PATH } from '../tiles.js';
import { TILES_PARAM, chooseTilesBase, savedTilesBase, saveTilesBase } from '../tiles-url.js';

const rpcInput = $<HTMLInputElement>('#rpc-url');
const contractInput = $<HTMLInputElement>('#contract-address');
const tilesInput = $<HTMLInputElement>('#tiles-url');
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

/** The absolute base URL the tiles are read under: the field's, else this origin's API. */
export function tilesBase(): string {
  return chooseTilesBase(tilesInput.value, null, location.href);
}

/** Take the saved RPC URL (else the election's) and the election's contract, unless the user has edited them. */
export function fillChainSettings(e: ElectionInfo): void {
  if (!rpcEdited) rpcInput.value = chooseRpcUrl(savedRpcUrl(), e.chainRpcUrl, rpcInput.value);
  if (!contractEdited && e.contract) contractInput.value = e.contract;
}

export function wireChainSettings(): void {
  rpcInput.addEventListener('change', () => {
    rpcEdited = true;
    saveRpcUrl(rpcInput.value);
  });
  contractInput.addEventListener('change', () => {
    contractEdited = true;
  });
  tilesInput.placeholder = new URL(DEFAULT_TILES_PATH, location.href).href;
  tilesInput.value = new URLSearchParams(location.search).get(TILES_PARAM)?.trim() || savedTilesBase();
  tilesInput.addEventListener('change', () => saveTilesBase(tilesInput.value));
}
