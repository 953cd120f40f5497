import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { keyObjectFromRaw, publicKeyProblem, strictVerify } from './ed25519-strict.js';

export { publicKeyProblem, signatureEncodingProblem, strictVerify, keyObjectFromRaw } from './ed25519-strict.js';

// PKCS#8 prefix for an Ed25519 private key: the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Ed25519KeyPair {
  seed: Buffer;
  publicKey: Buffer;
  privateKeyObject: KeyObject;
}

/** RFC 8032 key pair from a 32-byte seed. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const privateKeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = privateKeyObject.export({ format: 'jwk' });
  return { seed: Buffer.from(seed), publicKey: Buffer.from(jwk.x!, 'base64url'), privateKeyObject };
}

export function signMessage(privateKeyObject: KeyObject, message: Uint8Array): Buffer {
  return nodeSign(null, message, privateKeyObject);
}

/** True when the signature verifies under strict RFC 8032 rules. */
export function verifyStrict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, keyObject?: KeyObject): boolean {
  return strictVerify(publicKey, message, signature, keyObject) === null;
}

/** Is `key` acceptable as a credential: canonical encoding of a point on the curve, not of small order. */
export function isAcceptableCredential(key: Uint8Array): boolean {
  if (publicKeyProblem(key) !== null) return false;
  try {
    keyObjectFromRaw(key);
    return true;
  } catch {
    return false;
  }
}
