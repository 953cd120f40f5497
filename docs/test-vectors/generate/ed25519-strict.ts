// ed25519-strict.json: signatures a strict verifier (RFC 8032 cofactorless, canonical encodings, no
// small order) must refuse, each built by hand next to a valid one, with the first rule it breaks.
import { ed25519 } from '@noble/curves/ed25519.js';
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
