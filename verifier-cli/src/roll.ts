// The credential roll: the voters' Ed25519 public keys. Its root (rollRoot in merkle.ts) is registered
// on chain. Keys must be canonical encodings of points that are not of small order (DESIGN.md).
import { credentialProblem, publicKeyProblem } from './ed25519.js';
import { fromCheckedHex, isHex, short } from './hex.js';

export interface Roll {
  /** Keys that pass the encoding checks, lowercase hex. */
  keys: Set<string>;
  /** Those keys' raw bytes, ascending (bytewise): the rollRoot leaves, views into `packed`. */
  sorted: Uint8Array[];
  /** The sorted keys back to back, 32 bytes each (what a worker thread is handed to compute the root). */
  packed: Uint8Array;
  /** One message per refused or repeated key. */
  problems: string[];
}

/**
 * A roll file or response: a JSON array of hex keys, or one key per line (bare hex or a JSON string).
 * Throws on text that is neither; bad keys are listed in `problems`, not thrown.
 */
export function parseRollText(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const value: unknown = JSON.parse(trimmed);
    if (!Array.isArray(value)) throw new Error('the roll must be a JSON array of hex keys');
    return value.map((k) => String(k));
  }
  return trimmed
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => (line.startsWith('"') ? String(JSON.parse(line)) : line));
}

/**
 * Collect the roll and check each key's encoding: 32-byte lowercase hex, canonical, not of small order,
 * not repeated. Whether a key decodes to a curve point at all is a costlier check (a square root mod p
 * per key), made by rollPointProblem() — see audit.ts for when.
 */
export function buildRoll(keys: readonly string[]): Roll {
  const valid = new Set<string>();
  const problems: string[] = [];
  for (const [i, key] of keys.entries()) {
    if (!isHex(key, 32)) {
      problems.push(`roll key #${i} (${short(String(key))}) is not 32-byte lowercase hex`);
      continue;
    }
    if (valid.has(key)) {
      problems.push(`roll key #${i} ${short(key)} repeats`);
      continue;
    }
    const problem = publicKeyProblem(fromCheckedHex(key));
    if (problem !== null) {
      problems.push(`roll key #${i} ${short(key)} is refused (${problem})`);
      continue;
    }
    valid.add(key);
  }
  // Lowercase hex strings of equal length sort as their bytes do.
  const packed = fromCheckedHex([...valid].sort().join(''));
  const sorted = Array.from({ length: valid.size }, (_, i) => packed.subarray(i * 32, i * 32 + 32));
  return { keys: valid, sorted, packed, problems };
}

/** A roll key that passed buildRoll but does not decode to a curve point: the message, else null. */
export function rollPointProblem(key: string): string | null {
  const problem = credentialProblem(fromCheckedHex(key));
  return problem === null ? null : `roll key ${short(key)} is refused (${problem})`;
}
