// The version 2 manifest (docs/protocol.md 12.2): every rule of a v1 manifest (protocol.ts checks them on
// the v1 keys), and ballotMode "encrypted", 1..16 trustees with distinct ids and distinct strict Ed25519
// keys, a threshold 1 <= K <= n, and at most 64 choices over all contests.
import { credentialProblem } from '../ed25519.js';
import { isHex } from '../hex.js';
import { hasExactKeys, hasKeys, ID_RE, isPlainObject, manifestProblem, type Contest } from '../protocol.js';

export const MAX_TRUSTEES = 16;
export const MAX_ENCRYPTED_CHOICES = 64;

export interface Trustee {
  id: string;
  key: string;
}

export interface ManifestV2 {
  version: 2;
  electionId: string;
  title: string;
  contests: Contest[];
  opensAt: string;
  closesAt: string;
  windowSeconds: number;
  ledgerKey: string;
  ballotMode: 'encrypted';
  trustees: Trustee[];
  threshold: number;
  /** The ledger's shards (docs/protocol.md 13.1), 1..1024; absent means 1. */
  shards?: number;
}

const V1_KEYS = ['version', 'electionId', 'title', 'contests', 'opensAt', 'closesAt', 'windowSeconds', 'ledgerKey'];
const V2_KEYS = [...V1_KEYS, 'ballotMode', 'trustees', 'threshold'] as const;

/** The manifest says version 2 (whether or not it is a valid one). */
export function isVersion2(manifest: unknown): boolean {
  return isPlainObject(manifest) && manifest.version === 2;
}

/** Why `input` is not a version 2 manifest, or null. */
export function manifestV2Problem(input: unknown): string | null {
  if (!isPlainObject(input)) return 'the manifest is not a JSON object';
  if (!hasKeys(input, V2_KEYS, ['shards']))
    return `a version 2 manifest has exactly the keys ${V2_KEYS.join(', ')} (and optionally shards)`;
  if (input.version !== 2) return 'manifest.version must be 2';
  // The v1 rules, on the v1 keys (and shards, when named).
  const common = Object.fromEntries(
    [...V1_KEYS, ...(Object.hasOwn(input, 'shards') ? ['shards'] : [])].map((k) => [k, input[k]]),
  );
  const problem = manifestProblem({ ...common, version: 1 });
  if (problem !== null) return problem;
  if (input.ballotMode !== 'encrypted') return 'manifest.ballotMode must be "encrypted"';
  const contests = input.contests as Contest[];
  const choices = contests.reduce((n, c) => n + c.choices.length, 0);
  if (choices > MAX_ENCRYPTED_CHOICES)
    return `an encrypted election has at most ${MAX_ENCRYPTED_CHOICES} choices over all contests, not ${choices}`;
  const trustees = input.trustees;
  if (!Array.isArray(trustees) || trustees.length < 1 || trustees.length > MAX_TRUSTEES)
    return `manifest.trustees must list 1 to ${MAX_TRUSTEES} trustees`;
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const [i, t] of trustees.entries()) {
    const at = `manifest.trustees[${i}]`;
    if (!isPlainObject(t) || !hasExactKeys(t, ['id', 'key'])) return `${at} must be {"id","key"}`;
    if (typeof t.id !== 'string' || !ID_RE.test(t.id) || ids.has(t.id)) return `${at}.id must be a unique id`;
    ids.add(t.id);
    if (!isHex(t.key, 32) || keys.has(t.key)) return `${at}.key must be a unique 32-byte lowercase hex key`;
    const keyProblem = credentialProblem(Buffer.from(t.key, 'hex'));
    if (keyProblem !== null) return `${at}.key is not a strict Ed25519 public key (${keyProblem})`;
    keys.add(t.key);
  }
  const k = input.threshold;
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1 || k > trustees.length)
    return `manifest.threshold must be an integer from 1 to ${trustees.length}`;
  return null;
}
