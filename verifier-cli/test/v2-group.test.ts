// The v2 group (docs/protocol.md 12.1) and proofs (12.3 to 12.5): element and scalar rules case by case,
// the arithmetic against noble's edwards25519 (an independent implementation), zero scalars and the
// identity handled without throwing, Hs against a hand computation, and each proof's round trip with the
// test prover, then tampered — including hostile values (zero challenges and responses, a shifted β that
// is the identity) that must give "does not verify", never an exception.
import { createHash } from 'node:crypto';
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import canonicalizeImport from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { SMALL_ORDER_ENCODINGS } from '../src/ed25519.js';
import { BoundedLog, lagrangeAtZero } from '../src/v2/decryption.js';
import {
  add,
  addScalars,
  BASE,
  decodeElement,
  decodeScalar,
  decodeSum,
  hashToScalar,
  IDENTITY,
  intLE,
  invertScalar,
  isIdentity,
  mod,
  mul,
  mulBase,
  mulScalars,
  ORDER,
  pointHex,
  scalarHex,
  sub,
  type Point,
} from '../src/v2/group.js';
import { verifyDecryptShare, verifyDisjunctive, verifyPok, type DisjunctiveStatement } from '../src/v2/proofs.js';
import {
  encrypt,
  evaluatePolynomial,
  proveDecryptShare,
  proveDisjunctive,
  provePok,
  seededRng,
} from './v2-support/prover.js';

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
const rng = seededRng('v2-group.test');
const noble = (p: Point): EdwardsPoint => ed25519.Point.fromBytes(p, false);
const nobleHex = (p: EdwardsPoint): string => Buffer.from(p.toBytes()).toString('hex');
const L_MINUS_1 = ORDER - 1n;

describe('v2 group: elements', () => {
  it('accepts G and multiples of it', () => {
    expect(decodeElement(pointHex(BASE))).not.toBeNull();
    expect(pointHex(BASE)).toBe(nobleHex(ed25519.Point.BASE));
    for (let i = 0; i < 5; i++) expect(decodeElement(pointHex(mulBase(rng())))).not.toBeNull();
  });

  it('refuses the identity and every point of small order', () => {
    for (const hex of SMALL_ORDER_ENCODINGS) expect(decodeElement(hex), hex).toBeNull();
    expect(decodeElement(pointHex(IDENTITY))).toBeNull();
  });

  it('refuses a point of mixed order (G plus a point of order 8): the subgroup check', () => {
    const torsion = ed25519.Point.fromBytes(Buffer.from(SMALL_ORDER_ENCODINGS[4]!, 'hex'), false);
    const mixed = ed25519.Point.BASE.add(torsion);
    expect(mixed.isTorsionFree()).toBe(false);
    expect(decodeElement(nobleHex(mixed))).toBeNull();
  });

  it('refuses non-canonical encodings (y >= p), a point off the curve, and malformed hex', () => {
    expect(decodeElement('ed' + 'ff'.repeat(30) + '7f')).toBeNull(); // y = p
    expect(decodeElement('ee' + 'ff'.repeat(30) + '7f')).toBeNull(); // y = p + 1, i.e. 1: the identity, non-canonical
    // A y with no x on the curve: noble refuses to decode it too.
    let offCurve: string | undefined;
    for (let y = 2; offCurve === undefined; y++) {
      const hex = Buffer.from(y.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
      try {
        ed25519.Point.fromBytes(Buffer.from(hex, 'hex'), false);
      } catch {
        offCurve = hex;
      }
    }
    expect(decodeElement(offCurve)).toBeNull();
    const g = pointHex(mulBase(2n)); // has letters, unlike G
    for (const bad of [g.toUpperCase(), g.slice(2), `${g}00`, `0x${g.slice(2)}`, 42, null, undefined, {}])
      expect(decodeElement(bad)).toBeNull();
  });

  it('decodeSum also takes the identity (an aggregate of nothing), nothing else of small order', () => {
    expect(isIdentity(decodeSum(pointHex(IDENTITY))!)).toBe(true);
    for (const hex of SMALL_ORDER_ENCODINGS.slice(1)) expect(decodeSum(hex)).toBeNull();
  });
});

describe('v2 group: scalars', () => {
  it('canonical means < ℓ, 32 bytes little-endian, lowercase', () => {
    expect(decodeScalar('00'.repeat(32))).toBe(0n);
    expect(decodeScalar(scalarHex(L_MINUS_1))).toBe(L_MINUS_1);
    const l = Buffer.from(ORDER.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
    expect(l).toBe('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
    expect(decodeScalar(l)).toBeNull();
    expect(decodeScalar('ff'.repeat(32))).toBeNull();
    expect(decodeScalar(scalarHex(L_MINUS_1).toUpperCase())).toBeNull();
    expect(decodeScalar('00'.repeat(31))).toBeNull();
    expect(decodeScalar(7)).toBeNull();
  });

  it('arithmetic mod ℓ, and inverses', () => {
    const a = rng();
    const b = rng();
    expect(addScalars(a, b)).toBe((a + b) % ORDER);
    expect(mulScalars(a, invertScalar(a))).toBe(1n);
    expect(mod(-1n)).toBe(L_MINUS_1);
    expect(() => invertScalar(0n)).toThrow();
    expect(() => invertScalar(ORDER)).toThrow();
  });
});

describe('v2 group: arithmetic against noble', () => {
  it('k·G, k·P, P + Q and P − Q agree', () => {
    for (let i = 0; i < 4; i++) {
      const k = rng();
      const m = rng();
      const p = mulBase(m);
      expect(pointHex(p)).toBe(nobleHex(ed25519.Point.BASE.multiply(m)));
      expect(pointHex(mul(p, k))).toBe(nobleHex(noble(p).multiply(k)));
      const q = mulBase(k);
      expect(pointHex(add(p, q))).toBe(nobleHex(noble(p).add(noble(q))));
      expect(pointHex(sub(p, q))).toBe(nobleHex(noble(p).subtract(noble(q))));
    }
  });

  it('zero scalars and the identity give the identity, and never throw', () => {
    const p = mulBase(rng());
    expect(isIdentity(mul(p, 0n))).toBe(true);
    expect(isIdentity(mulBase(0n))).toBe(true);
    expect(isIdentity(mul(IDENTITY, rng()))).toBe(true);
    expect(isIdentity(mul(IDENTITY, 0n))).toBe(true);
    expect(isIdentity(sub(p, p))).toBe(true);
    expect(isIdentity(add(mul(BASE, L_MINUS_1), BASE))).toBe(true);
    expect(add(IDENTITY, p).equals(p)).toBe(true);
    expect(pointHex(mulBase(1n))).toBe(pointHex(BASE));
  });

  it('Hs is SHA-512 of the domain then JCS, little-endian, mod ℓ', () => {
    const obj = { b: [1, 'é'], a: null, choice: 'x' };
    const digest = createHash('sha512')
      .update(`tallyproof:test:v2:${canonicalize(obj)}`, 'utf8')
      .digest();
    let n = 0n;
    for (let i = 63; i >= 0; i--) n = (n << 8n) | BigInt(digest[i]!);
    expect(hashToScalar('tallyproof:test:v2:', obj)).toBe(n % ORDER);
    expect(intLE(digest) % ORDER).toBe(n % ORDER);
  });
});

describe('v2 proofs', () => {
  const h = mulBase(rng());
  const base = {
    electionId: 'proofs-test',
    manifestHash: 'ab'.repeat(32),
    publicKey: h,
    publicKeyHex: pointHex(h),
    credential: 'cd'.repeat(32),
    contest: 'council',
  };
  const statement = (m: number, r: bigint, values = [0, 1], choice: string | null = 'ana'): DisjunctiveStatement => ({
    ...base,
    choice,
    ...encrypt(m, r, h),
    values,
  });

  it('a choice proof for 0 and for 1, and a contest proof over a range, verify', () => {
    for (const m of [0, 1]) {
      const r = rng();
      const st = statement(m, r);
      expect(verifyDisjunctive(st, proveDisjunctive(st, m, r, rng))).toBe(true);
    }
    const r = rng();
    const st = statement(2, r, [0, 1, 2, 3], null);
    expect(verifyDisjunctive(st, proveDisjunctive(st, 2, r, rng))).toBe(true);
  });

  it('fails, without throwing, when tampered: the statement, the values, the scalars', () => {
    const r = rng();
    const st = statement(1, r);
    const proof = proveDisjunctive(st, 1, r, rng);
    expect(verifyDisjunctive({ ...st, credential: 'ef'.repeat(32) }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, choice: 'bo' }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, contest: 'q1' }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, electionId: 'other' }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, values: [0, 2] }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, values: [0] }, proof)).toBe(false);
    expect(verifyDisjunctive({ ...st, beta: add(st.beta, BASE) }, proof)).toBe(false);
    expect(verifyDisjunctive(st, { c: [proof.c[1]!, proof.c[0]!], s: proof.s })).toBe(false);
    expect(verifyDisjunctive(st, { c: proof.c, s: [proof.s[0]!, addScalars(proof.s[1]!, 1n)] })).toBe(false);
    // Hostile: zeros everywhere, and β = 1·G so that β − v·G is the identity for v = 1.
    expect(verifyDisjunctive(st, { c: [0n, 0n], s: [0n, 0n] })).toBe(false);
    const identityShift = { ...st, beta: mulBase(1n) };
    expect(verifyDisjunctive(identityShift, { c: [0n, 1n], s: [1n, 0n] })).toBe(false);
    expect(verifyDisjunctive(identityShift, proof)).toBe(false);
  });

  it('a cheating prover cannot prove a value outside the list (m = 2 as 0 or 1)', () => {
    const r = rng();
    const st = statement(2, r);
    expect(verifyDisjunctive(st, proveDisjunctive(st, 1, r, rng))).toBe(false);
    expect(verifyDisjunctive(st, proveDisjunctive(st, 0, r, rng))).toBe(false);
  });

  it('proofs of knowledge: verify, and fail for another purpose, trustee or point', () => {
    const a = rng();
    const st = {
      electionId: 'e',
      manifestHash: '00'.repeat(32),
      trustee: 'alice',
      purpose: 'commitment',
      point: mulBase(a),
    };
    const { c, s } = provePok(st, a, rng);
    expect(verifyPok(st, c, s)).toBe(true);
    expect(verifyPok({ ...st, purpose: 'share-key' }, c, s)).toBe(false);
    expect(verifyPok({ ...st, trustee: 'bob' }, c, s)).toBe(false);
    expect(verifyPok({ ...st, point: mulBase(rng()) }, c, s)).toBe(false);
    expect(verifyPok(st, 0n, 0n)).toBe(false);
  });

  it('partial decryptions: verify, and fail for a wrong share or another key', () => {
    const x = rng();
    const alpha = mulBase(rng());
    const st = {
      electionId: 'e',
      manifestHash: '00'.repeat(32),
      aggregateHash: '11'.repeat(32),
      trustee: 'alice',
      contest: 'q1',
      choice: 'oui',
      alpha,
      share: mul(alpha, x),
      verificationKey: mulBase(x),
    };
    const { c, s } = proveDecryptShare(st, x, rng);
    expect(verifyDecryptShare(st, c, s)).toBe(true);
    expect(verifyDecryptShare({ ...st, share: add(st.share, BASE) }, c, s)).toBe(false);
    expect(verifyDecryptShare({ ...st, verificationKey: mulBase(rng()) }, c, s)).toBe(false);
    expect(verifyDecryptShare({ ...st, choice: 'non' }, c, s)).toBe(false);
    expect(verifyDecryptShare({ ...st, alpha: IDENTITY, share: IDENTITY }, 0n, 0n)).toBe(false);
  });
});

describe('v2 combination', () => {
  it('Lagrange at zero recovers f(0) from any K of n shares', () => {
    const f = [rng(), rng(), rng()]; // K = 3
    for (const subset of [
      [1, 2, 3],
      [1, 3, 5],
      [2, 4, 5],
      [5, 1, 4],
    ]) {
      const lambdas = lagrangeAtZero(subset);
      const secret = subset.reduce(
        (acc, j, i) => addScalars(acc, mulScalars(lambdas[i]!, evaluatePolynomial(f, j))),
        0n,
      );
      expect(secret).toBe(f[0]);
    }
    expect(lagrangeAtZero([4])).toEqual([1n]);
  });

  it('the bounded discrete log finds n in [0, max] and nothing beyond', () => {
    const log = new BoundedLog(1000);
    for (const n of [0, 1, 2, 31, 32, 33, 999, 1000]) expect(log.solve(mulBase(BigInt(n))), String(n)).toBe(n);
    expect(log.solve(mulBase(1001n))).toBeNull();
    expect(log.solve(mulBase(rng()))).toBeNull();
    const none = new BoundedLog(0);
    expect(none.solve(IDENTITY)).toBe(0);
    expect(none.solve(BASE)).toBeNull();
  });
});
