// Exponential ElGamal under the election key H (docs/protocol.md section 12.4): a value m is encrypted as
// (α, β) = (r·G, m·G + r·H). Ciphertexts add: the sum encrypts the sum of the values, which is how the
// contest proof covers a contest's choices and how the aggregate counts every ballot.
import { decodePoint, encodePoint, G, IDENTITY, mul, mulSecret, type Point } from './group.js';

export interface Ciphertext {
  alpha: Point;
  beta: Point;
}

/** (r·G, m·G + r·H); `r` is secret (it opens the ciphertext), `m` a small non-negative integer. */
export function encrypt(m: number, r: bigint, H: Point): Ciphertext {
  return { alpha: mulSecret(G, r), beta: mul(G, BigInt(m)).add(mulSecret(H, r)) };
}

export function addCiphertexts(a: Ciphertext, b: Ciphertext): Ciphertext {
  return { alpha: a.alpha.add(b.alpha), beta: a.beta.add(b.beta) };
}

export function sumCiphertexts(list: readonly Ciphertext[]): Ciphertext {
  return list.reduce(addCiphertexts, { alpha: IDENTITY, beta: IDENTITY });
}

/** Whether (α, β) is the encryption of `m` with randomness `r` under H: what an audited ballot's opening shows. */
export function opens(c: Ciphertext, m: number, r: bigint, H: Point): boolean {
  const again = encrypt(m, r, H);
  return again.alpha.equals(c.alpha) && again.beta.equals(c.beta);
}

export function encodeCiphertext(c: Ciphertext): { alpha: string; beta: string } {
  return { alpha: encodePoint(c.alpha), beta: encodePoint(c.beta) };
}

/** Both points checked as group elements (section 12.1); throws a DecodeError otherwise. */
export function decodeCiphertext(c: { alpha: unknown; beta: unknown }): Ciphertext {
  return { alpha: decodePoint(c.alpha), beta: decodePoint(c.beta) };
}

/** The baby steps j·G (j < m) by encoding; the last table is kept, since every choice of a tally uses the same. */
let babyCache: { m: number; table: Map<string, number>; step: Point } | null = null;

function babySteps(m: number): { table: Map<string, number>; step: Point } {
  if (babyCache?.m === m) return babyCache;
  const table = new Map<string, number>();
  let P = IDENTITY;
  for (let j = 0; j < m; j++) {
    table.set(encodePoint(P), j);
    P = P.add(G);
  }
  babyCache = { m, table, step: P.negate() }; // step = −m·G
  return babyCache;
}

/**
 * The n in [0, max] with n·G = M (baby-step giant-step, about 2·√max additions), or null when there is none.
 */
export function discreteLog(M: Point, max: number): number | null {
  if (!Number.isSafeInteger(max) || max < 0) return null;
  const m = Math.max(1, Math.ceil(Math.sqrt(max + 1)));
  const { table, step } = babySteps(m);
  let Q = M;
  for (let i = 0; i * m <= max; i++) {
    const j = table.get(encodePoint(Q));
    if (j !== undefined) {
      const n = i * m + j;
      return n <= max ? n : null;
    }
    Q = Q.add(step);
  }
  return null;
}
