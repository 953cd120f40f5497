// What the API needs from outside its own database: the anchor worker's request queue, the chain it
// anchors on, and a probe of their health. All optional, so the API also runs (and is tested) alone.

/**
 * Requests to the anchor worker (jobs/src/contract.ts; jobs/src/requests.ts `createAnchorRequests`): each
 * resolves once the request is on record; the worker does the chain work and writes the outcome into the
 * ledger. Re-exported for the API's modules; other callers import it from jobs/.
 */
export type { AnchorRequests } from '../../jobs/src/index.js';

/** The chain and contract the ledger anchors on, as shown in elections and proof bundles. */
export interface ChainInfo {
  chainId: number | null;
  /** TallyAnchor address, 0x-prefixed (EIP-55 or lowercase as configured). */
  contract: string | null;
  /**
   * The chain's JSON-RPC URL for browsers and voters (PUBLIC_CHAIN_RPC_URL), shown as `chainRpcUrl` in
   * elections; unset or null: not published. Never the internal CHAIN_RPC_URL by default.
   */
  publicRpcUrl?: string | null;
}

export type UpDown = 'up' | 'down' | 'unknown';

/** Health of the dependencies other than PostgreSQL (which the API probes itself). */
export interface DependencyStatus {
  chain: UpDown;
  queue: UpDown;
}

export type DependencyProbe = () => Promise<DependencyStatus>;

/** The one deadline helper of the server side (jobs/src/timeout.ts); a probe that hangs counts as down. */
export { withTimeout } from '../../jobs/src/index.js';

/** The chain-id probe the API's health and start-up use. */
export { probeChainId } from '../../contracts/rpc.js';
