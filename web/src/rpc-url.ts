// The chain's JSON-RPC URL the pages read anchored roots through. A URL the voter typed is kept in
// localStorage and wins over the one the server publishes (chainRpcUrl): a voter who points the check at a
// node of their own keeps it on every election and every visit, so the server cannot swap in a node of its
// choosing. Clearing the field forgets it, and the published URL applies again. The pages' CSP allows any
// https: endpoint and plain http on the loopback address for it (api/src/plugins/web.ts).

export const RPC_STORAGE = 'tallyproof.rpcUrl';

/** The voter's saved URL, else the server's, else `fallback`. Pure, for web/test/rpc-url.test.ts. */
export function chooseRpcUrl(saved: string | null, published: string | null | undefined, fallback = ''): string {
  return saved?.trim() || published || fallback;
}

/** The URL the voter saved ('' when none, or storage is blocked). */
export function savedRpcUrl(): string {
  try {
    return localStorage.getItem(RPC_STORAGE)?.trim() ?? '';
  } catch {
    return '';
  }
}

/** Keep the URL the voter typed; an empty one forgets it. */
export function saveRpcUrl(url: string): void {
  try {
    if (url.trim() === '') localStorage.removeItem(RPC_STORAGE);
    else localStorage.setItem(RPC_STORAGE, url.trim());
  } catch {
    // not kept
  }
}
