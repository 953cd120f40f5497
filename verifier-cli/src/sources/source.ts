// What every source of the data under audit gives, whether the server's public API (api.ts) or files an
// auditor was handed (files.ts): the manifest, the roll, published results and the ledger as NDJSON; for an
// election of several shards also the anchor intervals' records and each shard's windows.
// Nothing a source says is trusted; everything is checked against the chain. Also the small helpers
// both sources share.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** What the server says about an election beside the manifest (GET /api/v1/elections/{id}). */
export interface ElectionClaims {
  manifestHash?: string;
  rollRoot?: string;
  status?: string;
  chainId?: number;
  contract?: string;
  /** An encrypted election: the election key the server names (`encryption.publicKey`, what voters encrypt to). */
  publicKey?: string;
}

export interface ElectionData {
  /** The manifest exactly as served (hashed as is). */
  manifest: unknown;
  claims: ElectionClaims;
}

export interface ElectionSource {
  /** For messages: "https://… (API)" or the ledger file's path. */
  readonly description: string;
  election(): Promise<ElectionData>;
  /** The roll's keys as served (unchecked strings). */
  roll(): Promise<string[]>;
  /** Published results, or null when there are none to compare. */
  results(): Promise<unknown | null>;
  /** The ledger's NDJSON, as served, in byte chunks (lines are split by ledgerBlocks and the workers). */
  ledgerChunks(): AsyncIterable<Uint8Array>;
  /** Total ledger bytes when known (file mode), for the progress bar. */
  ledgerBytes(): Promise<number | undefined>;
  // An encrypted election (wire format v2, docs/protocol.md 12.5 and 12.7); null when not given or
  // not published yet.
  /** The key ceremony's public transcript (GET …/trustee-messages). */
  trusteeMessages?(): Promise<unknown | null>;
  /** The aggregate (GET …/aggregate), published at the close. */
  aggregate?(): Promise<unknown | null>;
  /** The decryption result (GET …/decryption), once the trustees have decrypted. */
  decryption?(): Promise<unknown | null>;
  // An election of several shards (docs/protocol.md 13.3); null when not given.
  /** The anchor intervals, each with its window records (GET …/intervals, every page), unchecked. */
  intervals?(): Promise<unknown[] | null>;
  /** Shard `shard`'s windows (GET …/windows?shard=s, every page), unchecked. */
  shardWindows?(shard: number): Promise<unknown[] | null>;
}

/**
 * The items of a list the API serves a page at a time ({"<key>":[…],"next"?}), from a saved answer: the list
 * itself, one answer, or an array of answers (pages saved one after the other).
 */
export function listItems(value: unknown, key: string, what: string): unknown[] {
  const isPage = (v: unknown): v is Record<string, unknown[]> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as Record<string, unknown>)[key]);
  if (isPage(value)) return value[key]!;
  if (Array.isArray(value)) return value.every(isPage) && value.length > 0 ? value.flatMap((p) => p[key]!) : value;
  throw new InputError(`the ${what} is neither a JSON array of ${key} nor a saved {"${key}":[…]} answer`);
}

/** The election response's claims, picked defensively. */
export function claimsOf(body: Record<string, unknown>): ElectionClaims {
  const claims: ElectionClaims = {};
  if (typeof body.manifestHash === 'string') claims.manifestHash = body.manifestHash;
  if (typeof body.rollRoot === 'string') claims.rollRoot = body.rollRoot;
  if (typeof body.status === 'string') claims.status = body.status;
  if (typeof body.chainId === 'number') claims.chainId = body.chainId;
  if (typeof body.contract === 'string') claims.contract = body.contract;
  const encryption = body.encryption;
  if (typeof encryption === 'object' && encryption !== null && !Array.isArray(encryption)) {
    const key = (encryption as Record<string, unknown>).publicKey;
    if (typeof key === 'string') claims.publicKey = key;
  }
  return claims;
}

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the ${what} file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`the ${what} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
