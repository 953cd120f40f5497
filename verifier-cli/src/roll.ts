// The credential roll: the voters' Ed25519 public keys. Its root (rollRoot in merkle.ts) is registered
// on chain. Keys must be canonical encodings of points that are not of small order (docs/protocol.md).
import { credentialProblem, keyMayBeRefused, publicKeyProblem } from './ed25519.js';
import { fromCheckedHex, isHex, short } from './hex.js';

export interface Roll {
  /** Keys that pass the encoding checks, lowercase hex, each with its index (0, 1, …: in the order first met). */
  keys: Map<string, number>;
  /** Those keys' raw bytes, ascending (bytewise): the rollRoot leaves, views into `packed` (made on first use). */
  readonly sorted: Uint8Array[];
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
 * per key), made by rollPointProblem() — see audit/whole-ledger.ts for when.
 */
export function buildRoll(keys: readonly string[]): Roll {
  const builder = new RollBuilder();
  for (let i = 0; i < keys.length; i++) builder.add(keys[i]!, i);
  return builder.finish();
}

/**
 * buildRoll, giving the event loop a turn every `keysPerTurn` keys (the audit's main thread hands ledger
 * blocks to its workers meanwhile).
 */
export async function buildRollYielding(keys: readonly string[], keysPerTurn = 16_384): Promise<Roll> {
  const builder = new RollBuilder();
  for (let i = 0; i < keys.length; i++) {
    builder.add(keys[i]!, i);
    if ((i + 1) % keysPerTurn === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return builder.finish();
}

class RollBuilder {
  private readonly index = new Map<string, number>();
  private readonly valid: string[] = [];
  private readonly problems: string[] = [];

  add(key: string, i: number): void {
    if (!isHex(key, 32)) {
      this.problems.push(`roll key #${i} (${short(String(key))}) is not 32-byte lowercase hex`);
      return;
    }
    if (this.index.has(key)) {
      this.problems.push(`roll key #${i} ${short(key)} repeats`);
      return;
    }
    const problem = keyMayBeRefused(parseInt(key.slice(0, 2), 16)) ? publicKeyProblem(fromCheckedHex(key)) : null;
    if (problem !== null) {
      this.problems.push(`roll key #${i} ${short(key)} is refused (${problem})`);
      return;
    }
    this.index.set(key, this.valid.length);
    this.valid.push(key);
  }

  finish(): Roll {
    // Lowercase hex strings of equal length sort as their bytes do (the keys' indexes are only ids).
    const packed = fromCheckedHex(this.valid.sort().join(''));
    let sorted: Uint8Array[] | undefined;
    return {
      keys: this.index,
      get sorted() {
        sorted ??= Array.from({ length: packed.byteLength / 32 }, (_, i) => packed.subarray(i * 32, i * 32 + 32));
        return sorted;
      },
      packed,
      problems: this.problems,
    };
  }
}

/** A roll key that passed buildRoll but does not decode to a curve point: the message, else null. */
export function rollPointProblem(key: string): string | null {
  const problem = credentialProblem(fromCheckedHex(key));
  return problem === null ? null : `roll key ${short(key)} is refused (${problem})`;
}
