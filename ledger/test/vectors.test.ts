// The server's encodings against docs/test-vectors (generated from the RFCs with @noble/*, not with this code).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { jcs } from '../src/protocol/jcs.js';
import {
  auditPath,
  merkleRoot,
  MerkleRootBuilder,
  verifyInclusion,
  rootFromInclusionProof,
} from '../src/protocol/merkle.js';
import { strictVerify } from '../src/protocol/ed25519.js';
import { keyPairFromSeed } from '../src/protocol/ed25519.js';
import {
  ballotHash,
  ballotMessage,
  deriveCredential,
  manifestHash,
  normalizeManifest,
  receiptJcs,
  receiptMessage,
  rollRoot,
  signBallot,
  signReceipt,
  verifyReceipt,
  type Manifest,
  type Receipt,
} from '../src/protocol/protocol.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { validateRoll } from '../src/index.js';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../docs/test-vectors/${name}`, import.meta.url), 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const buf = (h: string) => Buffer.from(h, 'hex');

describe('JCS (RFC 8785)', () => {
  for (const c of load('jcs.json').cases) {
    it(c.name, () => expect(jcs(JSON.parse(c.input))).toBe(c.canonical));
  }
});

describe('RFC 6962 Merkle trees', () => {
  const v = load('rfc6962-merkle.json');
  const leaves: Buffer[] = v.leaves.map(buf);
  it('has every tree size 0..33', () =>
    expect(v.trees.map((t: { size: number }) => t.size)).toEqual(Array.from({ length: 34 }, (_, i) => i)));
  for (const t of v.trees) {
    it(`size ${t.size}: root, streaming root, every audit path and its verification`, () => {
      const d = leaves.slice(0, t.size);
      expect(hex(merkleRoot(d))).toBe(t.root);
      const b = new MerkleRootBuilder();
      for (const l of d) b.push(l);
      expect(hex(b.root())).toBe(t.root);
      for (const p of t.proofs) {
        expect(auditPath(d, p.leafIndex).map(hex)).toEqual(p.auditPath);
        const path = p.auditPath.map(buf);
        expect(verifyInclusion(d[p.leafIndex]!, p.leafIndex, t.size, path, buf(t.root))).toBe(true);
        // wrong leaf, wrong index, wrong path length: never the root
        expect(verifyInclusion(Buffer.alloc(32, 7), p.leafIndex, t.size, path, buf(t.root))).toBe(false);
        if (t.size > 1)
          expect(verifyInclusion(d[p.leafIndex]!, (p.leafIndex + 1) % t.size, t.size, path, buf(t.root))).toBe(false);
        expect(rootFromInclusionProof(d[p.leafIndex]!, p.leafIndex, t.size, [...path, Buffer.alloc(32)])).toBeNull();
      }
    });
  }
});

describe('strict Ed25519', () => {
  const v = load('ed25519-strict.json');
  for (const c of v.cases) {
    it(`${c.name} → ${c.valid ? 'valid' : c.reason}`, () => {
      const problem = strictVerify(buf(c.publicKey), buf(c.message), buf(c.signature));
      expect(problem).toBe(c.valid ? null : c.reason);
    });
  }
  it('the small-order list is exactly what noble says', () => {
    for (const h of v.smallOrderEncodings) expect(ed25519.Point.fromHex(h).isSmallOrder()).toBe(true);
  });
});

describe('manifest, roll, ballots, receipts, credentials', () => {
  it('manifestHash', () => {
    const v = load('manifest.json');
    const m = normalizeManifest(v.manifest, v.manifest.ledgerKey) as Manifest;
    expect(jcs(m)).toBe(v.jcs);
    expect(hex(manifestHash(m))).toBe(v.manifestHash);
  });
  it('rollRoot for rolls of 0, 1, 2, 5 keys', async () => {
    for (const c of load('roll-root.json').cases) {
      const sorted = await validateRoll(c.roll);
      expect(sorted.map(hex)).toEqual(c.sorted);
      expect(hex(rollRoot(sorted))).toBe(c.rollRoot);
    }
  });
  it('ballot signing and ballotHash', () => {
    for (const c of load('ballots.json').cases) {
      expect(hex(keyPairFromSeed(buf(c.seed)).publicKey)).toBe(c.publicKey);
      expect(ballotMessage(c.ballot).toString('utf8')).toBe(c.message);
      const s = signBallot(buf(c.seed), c.ballot);
      expect(s.signature).toBe(c.signature);
      expect(hex(ballotHash(s))).toBe(c.ballotHash);
      expect(strictVerify(buf(c.publicKey), ballotMessage(c.ballot), buf(c.signature))).toBeNull();
    }
  });
  it('receipt signing', () => {
    const v = load('receipts.json');
    const key = ledgerKeyFromSeed(buf(v.ledgerSeed));
    expect(key.publicKeyHex).toBe(v.ledgerKey);
    for (const c of v.cases) {
      const { signature, ...body } = c.receipt as Receipt;
      expect(receiptMessage(body).toString('utf8')).toBe(c.message);
      expect(signReceipt(key.privateKey, body).signature).toBe(signature);
      expect(verifyReceipt(buf(v.ledgerKey), c.receipt)).toBe(true);
      expect(verifyReceipt(buf(v.ledgerKey), { ...c.receipt, seq: c.receipt.seq + 1 })).toBe(false);
    }
  });
  it('the written-out receipt JCS equals the general canonicaliser on every kind of value', () => {
    const ids = ['e', 'demo-2026', 'a'.repeat(64), 'quote"back\\slash', 'ünïcode-€-😀', 'ctl\u0001\u001f\n'];
    const seqs = [0, 1, 9, 10, 123456789, Number.MAX_SAFE_INTEGER];
    for (const electionId of ids) {
      for (const seq of seqs) {
        const body = {
          version: 1 as const,
          electionId,
          seq,
          ballotHash: 'ab'.repeat(32),
          receivedAt: '2026-11-23T10:00:00.000Z',
        };
        expect(receiptJcs(body)).toBe(jcs(body));
      }
    }
    // a body that is not what a receipt holds still gets the canonical form
    const odd = { version: 1, electionId: 'e', seq: 1.5, ballotHash: 'x', receivedAt: 't' } as unknown as Parameters<
      typeof receiptJcs
    >[0];
    expect(receiptJcs(odd)).toBe(jcs(odd));
  });
  it('credential derivation from a voter secret (scrypt N=2^15)', async () => {
    for (const c of load('credentials.json').cases) {
      const d = await deriveCredential(c.secret, c.electionId);
      expect(hex(d.seed)).toBe(c.seed);
      expect(hex(d.publicKey)).toBe(c.publicKey);
    }
  });
});
