// The page's own protocol code (web/src/protocol.ts) against docs/test-vectors: the browser signs,
// hashes and checks exactly what the server and the verifier do. Pure functions, run by `npm test`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ballotHash,
  ballotMessage,
  bytesToHex,
  deriveSeed,
  hexToBytes,
  isReceipt,
  jcs,
  publicKeyOf,
  receiptMessage,
  rootFromInclusionProof,
  signBallot,
  verifyReceiptSignature,
  InclusionProofError,
  type Ballot,
  type Receipt,
} from '../src/protocol.js';

const vectors = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../docs/test-vectors/${name}.json`, import.meta.url), 'utf8'));

describe('web protocol code against docs/test-vectors', () => {
  it('JCS', () => {
    const cases = vectors('jcs').cases as { name: string; input: string; canonical: string }[];
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(jcs(JSON.parse(c.input)), c.name).toBe(c.canonical);
  });

  it('signs ballots and hashes submissions (ballots.json)', () => {
    for (const c of vectors('ballots').cases as {
      seed: string;
      publicKey: string;
      ballot: Ballot;
      message: string;
      signature: string;
      submissionJcs: string;
      ballotHash: string;
    }[]) {
      expect(publicKeyOf(hexToBytes(c.seed))).toBe(c.publicKey);
      expect(new TextDecoder().decode(ballotMessage(c.ballot))).toBe(c.message);
      const s = signBallot(hexToBytes(c.seed), c.ballot);
      expect(s.signature).toBe(c.signature);
      expect(jcs(s)).toBe(c.submissionJcs);
      expect(ballotHash(s)).toBe(c.ballotHash);
    }
  });

  it('checks receipt signatures strictly (receipts.json)', () => {
    const v = vectors('receipts');
    for (const c of v.cases as { receipt: Receipt; message: string }[]) {
      expect(isReceipt(c.receipt)).toBe(true);
      expect(new TextDecoder().decode(receiptMessage(c.receipt))).toBe(c.message);
      expect(verifyReceiptSignature(c.receipt, v.ledgerKey)).toBe(true);
      expect(verifyReceiptSignature({ ...c.receipt, seq: c.receipt.seq + 1 }, v.ledgerKey)).toBe(false);
      expect(verifyReceiptSignature(c.receipt, c.receipt.ballotHash)).toBe(false);
    }
  });

  it('derives credentials with scrypt (credentials.json)', async () => {
    const c = (
      vectors('credentials').cases as { electionId: string; secret: string; seed: string; publicKey: string }[]
    )[0]!;
    const progress: number[] = [];
    const seed = await deriveSeed(c.secret, c.electionId, (p) => progress.push(p));
    expect(bytesToHex(seed)).toBe(c.seed);
    expect(publicKeyOf(seed)).toBe(c.publicKey);
    expect(progress.length).toBeGreaterThan(1);
  });

  it('recomputes every root from every audit path, and refuses altered proofs (rfc6962-merkle.json)', () => {
    const v = vectors('rfc6962-merkle') as {
      leaves: string[];
      trees: { size: number; root: string; proofs: { leafIndex: number; auditPath: string[] }[] }[];
    };
    let checked = 0;
    for (const tree of v.trees) {
      for (const p of tree.proofs) {
        const leaf = hexToBytes(v.leaves[p.leafIndex]!);
        const path = p.auditPath.map(hexToBytes);
        expect(bytesToHex(rootFromInclusionProof(leaf, p.leafIndex, tree.size, path))).toBe(tree.root);
        checked++;
        if (path.length > 0) {
          const altered = path.map((x) => x.slice());
          altered[0]![0]! ^= 1;
          expect(bytesToHex(rootFromInclusionProof(leaf, p.leafIndex, tree.size, altered))).not.toBe(tree.root);
          expect(() => rootFromInclusionProof(leaf, p.leafIndex, tree.size, path.slice(1))).toThrow(
            InclusionProofError,
          );
        }
        expect(() => rootFromInclusionProof(leaf, p.leafIndex, tree.size, [...path, new Uint8Array(32)])).toThrow(
          InclusionProofError,
        );
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(() => rootFromInclusionProof(new Uint8Array(32), 3, 3, [])).toThrow(InclusionProofError);
  });
});
