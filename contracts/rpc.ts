// A plain JSON-RPC call to an EVM node, with fetch and a deadline: for probing a node before, and
// independently of, an ethers provider (which would retry an unreachable node forever). One copy for the
// server side: the API's health and chain-id probe, the anchor worker, the deployment scripts.

/** `method(params)` on the node at `url`; rejects on a JSON-RPC error, no answer within `timeoutMs`, or no result. */
export async function jsonRpc<T = unknown>(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 5000,
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: T; error?: { message?: string } };
  if (body.error || body.result === undefined)
    throw new Error(`${method}: ${body.error?.message ?? `HTTP ${res.status}`}`);
  return body.result;
}

/** The node's chain id (eth_chainId), or null when it does not answer within `timeoutMs`. Never rejects. */
export async function probeChainId(rpcUrl: string, timeoutMs = 2000): Promise<number | null> {
  try {
    return Number(BigInt(await jsonRpc<string>(rpcUrl, 'eth_chainId', [], timeoutMs)));
  } catch {
    return null;
  }
}
