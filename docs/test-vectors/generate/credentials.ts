// credentials.json: credentials derived from a voter secret with scrypt, as the voter page derives them.
import { ed25519 } from '@noble/curves/ed25519.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { manifest } from './election.js';
import { hex } from './reference.js';

export function credentialVectors() {
  const derivation = [
    { electionId: manifest.electionId, secret: '1 85 05 78 006 048 22|A7K-93Q' },
    { electionId: manifest.electionId, secret: 'NAS-0000|code-0000' },
    { electionId: 'another-election', secret: 'NAS-0000|code-0000' },
  ].map((c) => {
    const seed = scrypt(utf8ToBytes(c.secret), utf8ToBytes('tallyproof:credential:v1:' + c.electionId), {
      N: 2 ** 15,
      r: 8,
      p: 1,
      dkLen: 32,
    });
    return {
      ...c,
      salt: 'tallyproof:credential:v1:' + c.electionId,
      seed: hex(seed),
      publicKey: hex(ed25519.getPublicKey(seed)),
    };
  });
  return {
    description:
      'Credential derived from a voter secret: seed = scrypt(UTF-8(secret), ' +
      'salt = UTF-8("tallyproof:credential:v1:" || electionId), N=2^15, r=8, p=1, dkLen=32); ' +
      'publicKey = Ed25519 public key of seed.',
    cases: derivation,
  };
}
