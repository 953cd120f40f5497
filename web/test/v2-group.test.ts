// The page's v2 group, ElGamal and proofs (web/src/v2/) under Node: encodings and the four decoding rules
// of docs/protocol.md 12.1, Hs, exponential ElGamal and the discrete log, and every proof round-tripping
// while a tampered one fails.
import { createHash } from 'node:crypto';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { discreteLog, encrypt, opens, sumCiphertexts } from '../src/v2/elgamal.js';
import {
  DecodeError,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  G,
  hashToScalar,
  IDENTITY,
  mod,
  mul,
  ORDER,
  randomScalar,
  type DecodeReason,
} from '../src/v2/group.js';
import {
  combineShares,
  lagrangeCoefficient,
  proveDecryptShare,
  proveDisjunctive,
  provePok,
  verifyDecryptShare,
  verifyDisjunctive,
  verifyPok,
  type BallotProofContext,
} from '../src/v2/proofs.js';

const P_FIELD = 2n ** 255n - 19n;

function leHex(n: bigint, bytes = 32): string {
  let hex = '';
  for (let i = 0; i < bytes; i++) {
    hex += Number((n >> BigInt(8 * i)) & 0xffn)
      .toString(16)
      .padStart(2, '0');
  }
  return hex;
}

function reasonOf(hex: string): DecodeReason | 'ok' {
  try {
    decodePoint(hex);
    return 'ok';
  } catch (err) {
    if (err instanceof DecodeError) return err.reason;
    throw err;
  }
}

/** A y with no x on the curve (the first such y from 2 up). */
function notOnCurve(): string {
  for (let y = 2n; ; y++) {
    const hex = leHex(y);
    try {
      decodePoint(hex);
    } catch (err) {
      if ((err as DecodeError).reason === 'not-on-curve') return hex;
    }
  }
}

describe('v2 group: encodings (12.1)', () => {
  it('round-trips random elements and scalars', () => {
    for (let i = 0; i < 20; i++) {
      const P = mul(G, randomScalar());
      const hex = encodePoint(P);
      expect(decodePoint(hex).equals(P)).toBe(true);
      const k = randomScalar();
      expect(decodeScalar(encodeScalar(k))).toBe(k);
    }
    expect(encodePoint(G)).toBe('5866666666666666666666666666666666666666666666666666666666666666');
  });

  it('refuses non-canonical encodings: y ≥ p, and both negative zeros', () => {
    expect(reasonOf(leHex(P_FIELD))).toBe('non-canonical'); // y = p
    expect(reasonOf(leHex(P_FIELD + 1n))).toBe('non-canonical'); // y = p + 1, "1" reduced
    expect(reasonOf('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')).toBe('non-canonical');
    // x = 0 with the sign bit set: (0, 1) and (0, −1).
    expect(reasonOf('0100000000000000000000000000000000000000000000000000000000000080')).toBe('non-canonical');
    expect(reasonOf('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')).toBe('non-canonical');
  });

  it('refuses encodings that are not points of the curve', () => {
    expect(reasonOf(notOnCurve())).toBe('not-on-curve');
  });

  it('refuses the eight points of small order, the identity included', () => {
    expect(ED25519_TORSION_SUBGROUP).toHaveLength(8);
    for (const hex of ED25519_TORSION_SUBGROUP) expect(reasonOf(hex), hex).toBe('small-order');
    expect(reasonOf(encodePoint(IDENTITY))).toBe('small-order');
  });

  it('refuses points of mixed order (ℓ·P is not the identity)', () => {
    const T = ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[1]!); // order 8, decoded without our rules
    for (let i = 0; i < 5; i++) {
      const P = mul(G, randomScalar()).add(T);
      expect(reasonOf(encodePoint(P))).toBe('not-in-subgroup');
    }
  });

  it('refuses hex that is not 64 lowercase characters', () => {
    const hex = encodePoint(mul(G, 1234567n));
    expect(hex).toMatch(/[a-f]/);
    expect(reasonOf(hex)).toBe('ok');
    expect(reasonOf(hex.toUpperCase())).toBe('not-hex');
    expect(reasonOf(hex.slice(2))).toBe('not-hex');
    expect(() => decodeScalar('AB'.repeat(32))).toThrow(DecodeError);
  });

  it('takes scalars below ℓ only', () => {
    expect(decodeScalar(leHex(ORDER - 1n))).toBe(ORDER - 1n);
    expect(decodeScalar(leHex(0n))).toBe(0n);
    expect(() => decodeScalar(leHex(ORDER))).toThrow(/canonical/);
    expect(() => decodeScalar(leHex(2n ** 256n - 1n))).toThrow(/canonical/);
  });

  it('Hs is SHA-512 of the domain and the JCS text, little-endian, mod ℓ', () => {
    const obj = { b: [1, 'x'], a: null };
    const digest = createHash('sha512').update('tallyproof:test:v2:{"a":null,"b":[1,"x"]}').digest();
    const expected = BigInt(`0x${Buffer.from(digest).reverse().toString('hex')}`) % ORDER;
    expect(hashToScalar('tallyproof:test:v2:', obj)).toBe(expected);
  });
});

describe('v2 ElGamal', () => {
  it('encrypts, opens and adds', () => {
    const h = randomScalar();
    const H = mul(G, h);
    const rs = [randomScalar(), randomScalar(), randomScalar()];
    const ms = [1, 0, 1];
    const cts = ms.map((m, i) => encrypt(m, rs[i]!, H));
    for (const [i, ct] of cts.entries()) {
      expect(opens(ct, ms[i]!, rs[i]!, H)).toBe(true);
      expect(opens(ct, 1 - ms[i]!, rs[i]!, H)).toBe(false);
    }
    // Decryption with the secret key: β − h·α = m·G.
    const sum = sumCiphertexts(cts);
    expect(discreteLog(sum.beta.subtract(mul(sum.alpha, h)), 3)).toBe(2);
  });

  it('finds bounded discrete logs and nothing beyond the bound', () => {
    for (const max of [0, 1, 2, 7, 100, 1000]) {
      for (const n of new Set([0, 1, Math.floor(max / 2), max])) {
        if (n > max) continue;
        expect(discreteLog(mul(G, BigInt(n)), max), `${n} ≤ ${max}`).toBe(n);
      }
      expect(discreteLog(mul(G, BigInt(max + 1)), max)).toBeNull();
    }
    expect(discreteLog(mul(G, randomScalar()), 10_000)).toBeNull();
  });
});

const CTX: BallotProofContext = {
  electionId: 'secret-2026',
  manifestHash: 'ab'.repeat(32),
  publicKey: '',
  credential: 'cd'.repeat(32),
  contest: 'referendum',
  choice: 'yes',
};

describe('v2 disjunctive Chaum–Pedersen proofs (12.4)', () => {
  const H = mul(G, randomScalar());
  const ctx = { ...CTX, publicKey: encodePoint(H) };

  it('proves and verifies 0 and 1 for a choice', () => {
    for (const m of [0, 1]) {
      const r = randomScalar();
      const ct = encrypt(m, r, H);
      const proof = proveDisjunctive(ctx, ct, H, [0, 1], m, r);
      expect(verifyDisjunctive(ctx, ct, H, [0, 1], proof)).toBe(true);
    }
  });

  it('proves a contest sum in [min, max], each value as the true branch', () => {
    const values = [1, 2, 3];
    for (const m of values) {
      const r = randomScalar();
      const ct = encrypt(m, r, H);
      const c = { ...ctx, choice: null };
      expect(verifyDisjunctive(c, ct, H, values, proveDisjunctive(c, ct, H, values, values.indexOf(m), r))).toBe(true);
    }
  });

  it('cannot prove a value outside the list', () => {
    const r = randomScalar();
    const ct = encrypt(2, r, H);
    for (const lie of [0, 1])
      expect(verifyDisjunctive(ctx, ct, H, [0, 1], proveDisjunctive(ctx, ct, H, [0, 1], lie, r))).toBe(false);
  });

  it('fails when anything in the statement or the proof is changed', () => {
    const r = randomScalar();
    const ct = encrypt(1, r, H);
    const proof = proveDisjunctive(ctx, ct, H, [0, 1], 1, r);
    const verify = (p: unknown, c = ctx, ciphertext = ct, values = [0, 1]) =>
      verifyDisjunctive(c, ciphertext, H, values, p);
    expect(verify(proof)).toBe(true);
    // Another credential, choice, contest, election, manifest or key: the challenge differs.
    expect(verify(proof, { ...ctx, credential: 'ef'.repeat(32) })).toBe(false);
    expect(verify(proof, { ...ctx, choice: 'no' })).toBe(false);
    expect(verify(proof, { ...ctx, contest: 'other' })).toBe(false);
    expect(verify(proof, { ...ctx, electionId: 'other' })).toBe(false);
    expect(verify(proof, { ...ctx, manifestHash: '00'.repeat(32) })).toBe(false);
    expect(verify(proof, { ...ctx, publicKey: encodePoint(G) })).toBe(false);
    // Another ciphertext.
    expect(verify(proof, ctx, { alpha: ct.alpha.add(G), beta: ct.beta })).toBe(false);
    expect(verify(proof, ctx, { alpha: ct.alpha, beta: ct.beta.add(G) })).toBe(false);
    // Another value list.
    expect(verify(proof, ctx, ct, [1, 0])).toBe(false);
    // Each scalar changed; the branches swapped; a non-canonical scalar (c + ℓ); the wrong shape.
    for (const key of ['c', 's'] as const) {
      for (const j of [0, 1]) {
        const bad = { c: [...proof.c], s: [...proof.s] };
        bad[key][j] = encodeScalar(decodeScalar(bad[key][j]!) + 1n);
        expect(verify(bad), `${key}[${j}]`).toBe(false);
      }
    }
    expect(verify({ c: [...proof.c].reverse(), s: [...proof.s].reverse() })).toBe(false);
    const c0 = decodeScalar(proof.c[0]!);
    if (c0 + ORDER < 2n ** 256n) expect(verify({ c: [leHex(c0 + ORDER), proof.c[1]], s: proof.s })).toBe(false);
    expect(verify({ c: proof.c, s: proof.s, extra: 1 })).toBe(false);
    expect(verify({ c: proof.c.slice(1), s: proof.s.slice(1) })).toBe(false);
    expect(verify(null)).toBe(false);
  });
});

describe('v2 trustee proofs (12.3, 12.5) and the combination', () => {
  const base = { electionId: 'secret-2026', manifestHash: 'ab'.repeat(32), trustee: 'trustee-1' };

  it('proofs of knowledge verify, and fail for another point, purpose or trustee', () => {
    const a = randomScalar();
    const A = mul(G, a);
    const proof = provePok({ ...base, purpose: 'commitment' }, a);
    expect(verifyPok({ ...base, purpose: 'commitment' }, A, proof)).toBe(true);
    expect(verifyPok({ ...base, purpose: 'share-key' }, A, proof)).toBe(false);
    expect(verifyPok({ ...base, trustee: 'trustee-2', purpose: 'commitment' }, A, proof)).toBe(false);
    expect(verifyPok({ ...base, purpose: 'commitment' }, A.add(G), proof)).toBe(false);
    expect(verifyPok({ ...base, purpose: 'commitment' }, A, { ...proof, s: encodeScalar(1n) })).toBe(false);
  });

  it('decryption shares verify against the verification key, a wrong share does not', () => {
    const x = randomScalar();
    const X = mul(G, x);
    const alpha = mul(G, randomScalar());
    const ctx = { ...base, aggregateHash: 'ef'.repeat(32), contest: 'referendum', choice: 'yes' };
    const { share, proof } = proveDecryptShare(ctx, alpha, x);
    expect(verifyDecryptShare(ctx, alpha, share, X, proof)).toBe(true);
    expect(verifyDecryptShare(ctx, alpha, share.add(G), X, proof)).toBe(false);
    expect(verifyDecryptShare(ctx, alpha, share, X.add(G), proof)).toBe(false);
    expect(verifyDecryptShare({ ...ctx, choice: 'no' }, alpha, share, X, proof)).toBe(false);
    expect(verifyDecryptShare({ ...ctx, aggregateHash: '00'.repeat(32) }, alpha, share, X, proof)).toBe(false);
    // A share made with another key cannot be proven with this one's proof.
    const other = proveDecryptShare(ctx, alpha, randomScalar());
    expect(verifyDecryptShare(ctx, alpha, other.share, X, other.proof)).toBe(false);
  });

  it('any K of N Shamir shares recombine to the same plaintext', () => {
    const K = 3; // of N = 5 trustees, indexes 1..5
    const poly = Array.from({ length: K }, randomScalar);
    const share = (j: number) => mod(poly.reduceRight((acc, a) => acc * BigInt(j) + a, 0n));
    const H = mul(G, poly[0]!);
    const r = randomScalar();
    const ct = encrypt(4, r, H);
    const subsets = [
      [1, 2, 3],
      [1, 3, 5],
      [2, 4, 5],
      [3, 4, 5],
    ];
    for (const S of subsets) {
      const shares = new Map(S.map((j) => [j, mul(ct.alpha, share(j))]));
      expect(discreteLog(combineShares(ct.beta, shares), 10), S.join(',')).toBe(4);
    }
    // Fewer than K shares give nothing.
    const two = new Map([1, 2].map((j) => [j, mul(ct.alpha, share(j))]));
    expect(discreteLog(combineShares(ct.beta, two), 10)).toBeNull();
    // λ over one index is 1.
    expect(lagrangeCoefficient([4], 4)).toBe(1n);
  });
});
