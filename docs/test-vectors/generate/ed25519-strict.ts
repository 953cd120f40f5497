// ed25519-strict.json: signatures a strict verifier (RFC 8032 cofactorless, canonical encodings, no
// small order) must refuse, each built by hand next to a valid one, with the first rule it breaks.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { voters } from './election.js';
import { hex } from './reference.js';

/** The order of the base point, and the field prime. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;
/** 32 bytes little-endian, as RFC 8032 encodes S and y. */
const le = (n: bigint) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
};
const fromLe = (b: Uint8Array) => {
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
};

export function strictEd25519Vectors() {
  const v0 = voters[0]!;
  const msg = utf8ToBytes('tallyproof:ballot:v1:{"strict":"vector"}');
  const good = ed25519.sign(msg, v0.seed);
  const R = good.slice(0, 32);
  const S = fromLe(good.slice(32));
  const identity = hexToBytes('0100000000000000000000000000000000000000000000000000000000000000');
  const order8 = hexToBytes('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
  // With the identity as public key, [S]B = R + [k]A holds for R = [S]B and any k: valid if small-order
  // keys were allowed.
  const sIdent = 12345n;
  const rIdent = ed25519.Point.BASE.multiply(sIdent).toBytes();
  // Non-canonical encoding of the key: y + p encodes the same y when y < 19. Take the identity (y = 1): y + p.
  const nonCanonicalIdentity = le(P + 1n);
  // "Negative zero": the two points with x = 0, (0, 1) and (0, -1), encoded with the sign bit set. RFC 8032
  // §5.1.3 step 4 refuses them; a lax decoder reads them as the identity and the order-2 point.
  const negativeZeroIdentity = hexToBytes('0100000000000000000000000000000000000000000000000000000000000080');
  const negativeZeroOrder2 = hexToBytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff');
  // k = SHA-512(R || A || M) mod L, the 64-byte digest read little-endian (RFC 8032 §5.1.7).
  const challenge = (r: Uint8Array, a: Uint8Array) => {
    const h = sha512(concatBytes(r, a, msg));
    let n = 0n;
    for (let i = 63; i >= 0; i--) n = (n << 8n) | BigInt(h[i]!);
    return n % L;
  };
  // Key (0, -1) read leniently: [S]B = R + [k](0, -1) holds for R = [S]B when k is even. Find such an S.
  let sOrder2 = 1n;
  let rOrder2 = ed25519.Point.BASE.toBytes();
  while (challenge(rOrder2, negativeZeroOrder2) % 2n !== 0n) {
    sOrder2 += 1n;
    rOrder2 = ed25519.Point.BASE.multiply(sOrder2).toBytes();
  }
  // R = the identity read leniently: [S]B = [k]A holds for S = k·a, a the signer's secret scalar.
  const { scalar: a0 } = ed25519.utils.getExtendedPublicKey(v0.seed);
  const sNegativeZeroR = (challenge(negativeZeroIdentity, v0.publicKey) * a0) % L;
  const flip = (b: Uint8Array, i: number) => {
    const c = b.slice();
    c[i]! ^= 0x01;
    return c;
  };
  const strictCases = [
    { name: 'valid', publicKey: hex(v0.publicKey), signature: hex(good), valid: true, reason: null },
    {
      name: 'S + L (non-canonical S, accepted by lax verifiers)',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(R, le(S + L))),
      valid: false,
      reason: 's-non-canonical',
    },
    {
      name: 'S = L',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(R, le(L))),
      valid: false,
      reason: 's-non-canonical',
    },
    {
      name: 'identity public key (small order) with R = [S]B: passes the bare equation',
      publicKey: hex(identity),
      signature: hex(concatBytes(rIdent, le(sIdent))),
      valid: false,
      reason: 'key-small-order',
    },
    {
      name: 'order-8 public key',
      publicKey: hex(order8),
      signature: hex(good),
      valid: false,
      reason: 'key-small-order',
    },
    {
      name: 'non-canonical public key encoding (y = p + 1)',
      publicKey: hex(nonCanonicalIdentity),
      signature: hex(good),
      valid: false,
      reason: 'key-non-canonical',
    },
    {
      name: 'small-order R (identity)',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(identity, le(S))),
      valid: false,
      reason: 'r-small-order',
    },
    {
      name: 'non-canonical R encoding (y = p + 1)',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(nonCanonicalIdentity, le(S))),
      valid: false,
      reason: 'r-non-canonical',
    },
    {
      name: 'negative-zero public key (x = 0, sign bit set: the identity read leniently) with R = [S]B',
      publicKey: hex(negativeZeroIdentity),
      signature: hex(concatBytes(rIdent, le(sIdent))),
      valid: false,
      reason: 'key-non-canonical',
    },
    {
      name: 'negative-zero public key (x = 0, sign bit set: (0, -1) read leniently) with R = [S]B, k even',
      publicKey: hex(negativeZeroOrder2),
      signature: hex(concatBytes(rOrder2, le(sOrder2))),
      valid: false,
      reason: 'key-non-canonical',
    },
    {
      name: 'negative-zero R (the identity read leniently) with S = k·a: passes the bare equation',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(negativeZeroIdentity, le(sNegativeZeroR))),
      valid: false,
      reason: 'r-non-canonical',
    },
    {
      name: 'negative-zero R ((0, -1) read leniently)',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(negativeZeroOrder2, le(S))),
      valid: false,
      reason: 'r-non-canonical',
    },
    {
      name: 'message changed',
      publicKey: hex(v0.publicKey),
      signature: hex(good),
      message: hex(flip(msg, 5)),
      valid: false,
      reason: 'signature-invalid',
    },
    {
      name: 'R bit flipped',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(flip(R, 0), good.slice(32))),
      valid: false,
      reason: 'signature-invalid',
    },
    {
      name: 'S bit flipped',
      publicKey: hex(v0.publicKey),
      signature: hex(concatBytes(R, flip(good.slice(32), 0))),
      valid: false,
      reason: 'signature-invalid',
    },
    {
      name: 'another key',
      publicKey: hex(voters[1]!.publicKey),
      signature: hex(good),
      valid: false,
      reason: 'signature-invalid',
    },
  ].map((c) => ({ message: hex(msg), ...c }));
  // Self-check the construction: the identity-key case really passes the bare cofactorless equation.
  if (!ed25519.Point.BASE.multiply(sIdent).equals(ed25519.Point.fromBytes(rIdent)))
    throw new Error('identity-key vector broken');
  // ... and so do the negative-zero ones, once decoded leniently (sign bit ignored).
  const lenient = (b: Uint8Array) => ed25519.Point.fromBytes(b, true);
  const B = ed25519.Point.BASE;
  const kOrder2 = challenge(rOrder2, negativeZeroOrder2);
  if (!B.multiply(sOrder2).equals(lenient(rOrder2).add(lenient(negativeZeroOrder2).multiplyUnsafe(kOrder2))))
    throw new Error('negative-zero (0, -1) key vector broken');
  const kR = challenge(negativeZeroIdentity, v0.publicKey);
  const A0 = ed25519.Point.fromBytes(v0.publicKey);
  if (!B.multiply(sNegativeZeroR).equals(lenient(negativeZeroIdentity).add(A0.multiplyUnsafe(kR))))
    throw new Error('negative-zero R vector broken');
  return {
    description:
      'Strict Ed25519 verification as Tallyproof requires it: RFC 8032 cofactorless equation, S < L, ' +
      'canonical encodings of R and the key, neither of small order. message is hex. ' +
      'reason is the first rule broken (informative).',
    smallOrderEncodings: [
      '0100000000000000000000000000000000000000000000000000000000000000',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0000000000000000000000000000000000000000000000000000000000000080',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
    ],
    cases: strictCases,
  };
}
