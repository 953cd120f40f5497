// The verifier's own primitives against docs/test-vectors/*.json (the shared, RFC-derived vectors).
import { scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { MerkleTree } from 'merkletreejs';
import { describe, expect, it } from 'vitest';
import { checkLedgerRow } from '../src/audit/row-check.js';
import { BALLOT_DOMAIN, ballotHash, ballotMessage, checkBallotRules, submissionJcs } from '../src/ballot.js';
import {
  credentialProblem,
  isCanonicalPointEncoding,
  SMALL_ORDER_ENCODINGS,
  verifyStrict,
  type Engine,
} from '../src/ed25519.js';
import { isCanonicalJson, jcs, rawMember } from '../src/jcs.js';
import {
  InclusionProofError,
  merkleTreeHead,
  merkleTreeHeadPacked,
  rollRoot,
  rootFromInclusionProof,
  verifyInclusion,
} from '../src/merkle.js';
import {
  ballotRules,
  manifestHash,
  parseManifest,
  receiptMessage,
  receiptProblem,
  type Manifest,
  type Receipt,
} from '../src/protocol.js';
import { buildRoll } from '../src/roll.js';

const vector = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../docs/test-vectors/${name}`, import.meta.url), 'utf8')) as T;
const hex = bytesToHex;

describe('jcs.json (RFC 8785)', () => {
  const { cases } = vector<{ cases: { name: string; input: string; canonical: string }[] }>('jcs.json');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(jcs(JSON.parse(c.input))).toBe(c.canonical);
    expect(isCanonicalJson(c.canonical)).toBe(true);
    expect(isCanonicalJson(c.input)).toBe(c.input === c.canonical);
  });

  it('rawMember recovers the exact text of a member, whatever it contains', () => {
    const line = ' { "seq" : 3, "x":"a \\" } ] {", "ballot" :{"b":[1,{"c":"}"}],"a":"\\\\"} , "z":null}';
    expect(rawMember(line, 'ballot')).toBe('{"b":[1,{"c":"}"}],"a":"\\\\"}');
    expect(rawMember(line, 'seq')).toBe('3');
    expect(rawMember(line, 'x')).toBe('"a \\" } ] {"');
    expect(rawMember(line, 'z')).toBe('null');
    expect(rawMember(line, 'missing')).toBeUndefined();
    expect(rawMember('[1,2]', 'ballot')).toBeUndefined();
  });
});

// RFC 6962 §2.1, recursive, straight from the text (noble's SHA-256): a reference independent of the
// verifier's level-by-level code (node:crypto's SHA-256) and of merkletreejs.
const leafHashRef = (d: Uint8Array) => sha256(concatBytes(new Uint8Array([0]), d));
const nodeHashRef = (l: Uint8Array, r: Uint8Array) => sha256(concatBytes(new Uint8Array([1]), l, r));
function mthRef(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return leafHashRef(d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHashRef(mthRef(d.slice(0, k)), mthRef(d.slice(k)));
}

describe('rfc6962-merkle.json', () => {
  const v = vector<{
    leaves: string[];
    trees: { size: number; root: string; proofs: { leafIndex: number; auditPath: string[] }[] }[];
  }>('rfc6962-merkle.json');
  const leaves = v.leaves.map(hexToBytes);

  it('merkleTreeHead and merkleTreeHeadPacked reproduce the MTH of every tree size 0..33', () => {
    for (const tree of v.trees) {
      expect(hex(merkleTreeHead(leaves.slice(0, tree.size))), `size ${tree.size}`).toBe(tree.root);
      expect(hex(merkleTreeHeadPacked(concatBytes(...leaves.slice(0, tree.size)))), `size ${tree.size}, packed`).toBe(
        tree.root,
      );
    }
  });

  it('agree with a recursive RFC 6962 reference on larger trees', () => {
    const many = Array.from({ length: 1100 }, (_, i) => sha256(utf8ToBytes(`leaf ${i}`)));
    for (const n of [34, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 513, 1000, 1024, 1025, 1100]) {
      const expected = hex(mthRef(many.slice(0, n)));
      expect(hex(merkleTreeHead(many.slice(0, n))), `size ${n}`).toBe(expected);
      expect(hex(merkleTreeHeadPacked(concatBytes(...many.slice(0, n)))), `size ${n}, packed`).toBe(expected);
    }
  });

  it('agree with merkletreejs configured as RFC 6962 (pre-hashed 0x00 leaves, 0x01 nodes, odd node promoted)', () => {
    const nodePrefix = Buffer.from([1]);
    const tree = (d: Uint8Array[]) =>
      new MerkleTree(
        d.map((leaf) => Buffer.from(leafHashRef(leaf))),
        (children: Buffer) => Buffer.from(sha256(concatBytes(nodePrefix, children))),
        {
          hashLeaves: false,
          sortLeaves: false,
          sortPairs: false,
          sort: false,
          duplicateOdd: false,
          isBitcoinTree: false,
          complete: false,
        },
      ).getRoot();
    const many = Array.from({ length: 600 }, (_, i) => sha256(utf8ToBytes(`other leaf ${i}`)));
    for (let n = 1; n <= 600; n += n < 70 ? 1 : 37) {
      expect(hex(merkleTreeHeadPacked(concatBytes(...many.slice(0, n)))), `size ${n}`).toBe(
        hex(tree(many.slice(0, n))),
      );
    }
  });

  it('the packed form refuses a partial leaf and leaves its input as it was', () => {
    expect(() => merkleTreeHeadPacked(new Uint8Array(33))).toThrow(RangeError);
    const packed = concatBytes(...leaves.slice(0, 5));
    const copy = packed.slice();
    merkleTreeHeadPacked(packed);
    expect(packed).toEqual(copy);
  });

  it('every audit path verifies (RFC 9162 §2.1.3.2)', () => {
    for (const tree of v.trees) {
      const root = hexToBytes(tree.root);
      for (const p of tree.proofs) {
        const proof = { leafIndex: p.leafIndex, treeSize: tree.size, auditPath: p.auditPath.map(hexToBytes) };
        expect(hex(rootFromInclusionProof(leaves[p.leafIndex]!, proof))).toBe(tree.root);
        expect(verifyInclusion(leaves[p.leafIndex]!, proof, root)).toBe(true);
      }
    }
  });

  it('wrong leaves, indexes, sizes and paths fail', () => {
    for (const tree of v.trees.filter((t) => t.size >= 2)) {
      const root = hexToBytes(tree.root);
      for (const p of tree.proofs) {
        const path = p.auditPath.map(hexToBytes);
        const leaf = leaves[p.leafIndex]!;
        const ok = { leafIndex: p.leafIndex, treeSize: tree.size, auditPath: path };
        expect(verifyInclusion(leaves[(p.leafIndex + 1) % tree.size]!, ok, root)).toBe(false);
        expect(verifyInclusion(leaf, { ...ok, leafIndex: (p.leafIndex + 1) % tree.size }, root)).toBe(false);
        expect(verifyInclusion(leaf, { ...ok, leafIndex: tree.size }, root)).toBe(false);
        expect(verifyInclusion(leaf, { ...ok, auditPath: path.slice(0, -1) }, root)).toBe(false);
        expect(verifyInclusion(leaf, { ...ok, auditPath: [...path, path[0]!] }, root)).toBe(false);
        if (tree.size < 33) {
          // The same path against the next tree: valid only where the two trees' paths coincide.
          const next = v.trees[tree.size + 1]!;
          const samePath = next.proofs[p.leafIndex]!.auditPath.join() === p.auditPath.join();
          expect(verifyInclusion(leaf, { ...ok, treeSize: next.size }, hexToBytes(next.root))).toBe(samePath);
        }
        const flipped = path.map((x) => Uint8Array.from(x));
        flipped[flipped.length - 1]![0]! ^= 1;
        expect(verifyInclusion(leaf, { ...ok, auditPath: flipped }, root)).toBe(false);
      }
    }
  });

  it('names the RFC step a malformed proof breaks', () => {
    expect(() => rootFromInclusionProof(leaves[0]!, { leafIndex: 3, treeSize: 3, auditPath: [] })).toThrow(
      InclusionProofError,
    );
    expect(() => rootFromInclusionProof(leaves[0]!, { leafIndex: 0, treeSize: 4, auditPath: [leaves[1]!] })).toThrow(
      /fewer than/,
    );
    expect(() => rootFromInclusionProof(leaves[0]!, { leafIndex: 0, treeSize: 1, auditPath: [leaves[1]!] })).toThrow(
      /more than/,
    );
  });

  it('handles indexes beyond 32 bits without bitwise truncation', () => {
    // A tree of 2^33 + 1 leaves: the last leaf's path is a single sibling, the MTH of the first 2^33.
    const big = 2 ** 33;
    const sibling = sha256(utf8ToBytes('left subtree'));
    const root = nodeHashRef(sibling, leafHashRef(leaves[0]!));
    expect(verifyInclusion(leaves[0]!, { leafIndex: big, treeSize: big + 1, auditPath: [sibling] }, root)).toBe(true);
  });
});

describe('ed25519-strict.json', () => {
  const v = vector<{
    smallOrderEncodings: string[];
    cases: {
      name: string;
      message: string;
      publicKey: string;
      signature: string;
      valid: boolean;
      reason: string | null;
    }[];
  }>('ed25519-strict.json');

  it('has the same eight small-order encodings', () => {
    expect([...SMALL_ORDER_ENCODINGS].sort()).toEqual([...v.smallOrderEncodings].sort());
    for (const p of v.smallOrderEncodings) expect(credentialProblem(hexToBytes(p))).toBe('key-small-order');
  });

  for (const engine of ['node', 'noble'] as Engine[]) {
    it.each(v.cases.map((c) => [c.name, c] as const))(`${engine}: %s`, (_name, c) => {
      const problem = verifyStrict(hexToBytes(c.publicKey), hexToBytes(c.message), hexToBytes(c.signature), engine);
      expect(problem === null).toBe(c.valid);
      expect(problem).toBe(c.reason);
    });
  }

  it("agrees with noble's own verify (zip215: false) wherever both reject or accept for the same reason", () => {
    for (const c of v.cases) {
      const noble = ed25519.verify(hexToBytes(c.signature), hexToBytes(c.message), hexToBytes(c.publicKey), {
        zip215: false,
      });
      // noble alone accepts a small-order R (no such check in RFC 8032's equation); we refuse it.
      if (c.reason === 'r-small-order') continue;
      expect(noble, c.name).toBe(c.valid);
    }
  });

  it('refuses the "negative zero" encodings of x = 0 and lengths other than 32/64', () => {
    expect(
      isCanonicalPointEncoding(hexToBytes('0100000000000000000000000000000000000000000000000000000000000080')),
    ).toBe(false);
    expect(
      isCanonicalPointEncoding(hexToBytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')),
    ).toBe(false);
    const good = v.cases[0]!;
    expect(
      verifyStrict(hexToBytes(good.publicKey).subarray(1), hexToBytes(good.message), hexToBytes(good.signature)),
    ).toBe('key-length');
    expect(
      verifyStrict(hexToBytes(good.publicKey), hexToBytes(good.message), hexToBytes(good.signature).subarray(1)),
    ).toBe('signature-length');
  });
});

describe('manifest.json, ballots.json, receipts.json, roll-root.json, credentials.json', () => {
  const m = vector<{ manifest: Manifest; jcs: string; manifestHash: string }>('manifest.json');
  const b = vector<{
    cases: {
      seed: string;
      publicKey: string;
      ballot: unknown;
      message: string;
      signature: string;
      submissionJcs: string;
      ballotHash: string;
    }[];
  }>('ballots.json');
  const r = vector<{ ledgerSeed: string; ledgerKey: string; cases: { receipt: Receipt; message: string }[] }>(
    'receipts.json',
  );

  it('manifest: JCS text and manifestHash', () => {
    const manifest = parseManifest(m.manifest);
    expect(jcs(manifest)).toBe(m.jcs);
    expect(hex(manifestHash(manifest))).toBe(m.manifestHash);
  });

  it.each(b.cases.map((c, i) => [i, c] as const))(
    'ballot %i: message, signature, submission JCS, ballotHash, rules',
    (_i, c) => {
      expect(hex(ed25519.getPublicKey(hexToBytes(c.seed)))).toBe(c.publicKey);
      const ballotJcs = jcs(c.ballot);
      expect(new TextDecoder().decode(ballotMessage(ballotJcs))).toBe(c.message);
      expect(c.message.startsWith(BALLOT_DOMAIN)).toBe(true);
      expect(verifyStrict(hexToBytes(c.publicKey), ballotMessage(ballotJcs), hexToBytes(c.signature))).toBeNull();
      expect(submissionJcs(ballotJcs, c.signature)).toBe(c.submissionJcs);
      expect(submissionJcs(ballotJcs, c.signature)).toBe(jcs({ signature: c.signature, ballot: c.ballot }));
      expect(hex(ballotHash(ballotJcs, c.signature))).toBe(c.ballotHash);
      expect(checkBallotRules(c.ballot, ballotRules(m.manifest)).ok).toBe(true);
    },
  );

  it('a ledger row built from each ballot vector passes the row check', () => {
    const rules = ballotRules(m.manifest);
    for (const [seq, c] of b.cases.entries()) {
      const line = `{"seq":${seq},"ballotHash":"${c.ballotHash}","ballot":${jcs(c.ballot)},"signature":"${c.signature}","receivedAt":"2026-03-01T12:00:00.000Z"}`;
      for (const engine of ['node', 'noble'] as Engine[]) {
        const result = checkLedgerRow(line, seq + 1, { rules, engine });
        expect(result.problems).toEqual([]);
        expect(result.leaf).toBe(c.ballotHash);
        expect(result.choices).not.toBeNull();
      }
    }
  });

  it.each(r.cases.map((c) => [c.receipt.seq, c] as const))(
    'receipt seq %i: message and ledger-key signature',
    (_seq, c) => {
      expect(hex(ed25519.getPublicKey(hexToBytes(r.ledgerSeed)))).toBe(r.ledgerKey);
      expect(receiptProblem(c.receipt)).toBeNull();
      expect(new TextDecoder().decode(receiptMessage(c.receipt))).toBe(c.message);
      expect(
        verifyStrict(hexToBytes(r.ledgerKey), receiptMessage(c.receipt), hexToBytes(c.receipt.signature)),
      ).toBeNull();
      const forged = { ...c.receipt, seq: c.receipt.seq + 1 };
      expect(verifyStrict(hexToBytes(r.ledgerKey), receiptMessage(forged), hexToBytes(c.receipt.signature))).toBe(
        'signature-invalid',
      );
    },
  );

  it('roll roots: sorted keys and MTH', () => {
    const v = vector<{ cases: { roll: string[]; sorted: string[]; rollRoot: string }[] }>('roll-root.json');
    for (const c of v.cases) {
      const roll = buildRoll(c.roll);
      expect(roll.problems).toEqual([]);
      expect(roll.sorted.map(hex)).toEqual(c.sorted);
      expect(hex(rollRoot(roll.sorted))).toBe(c.rollRoot);
    }
  });

  it('roll keys that repeat or are refused are reported, not rooted', () => {
    const v = vector<{ cases: { roll: string[] }[] }>('roll-root.json');
    const keys = v.cases.at(-1)!.roll;
    const roll = buildRoll([
      ...keys,
      keys[0]!,
      SMALL_ORDER_ENCODINGS[4]!,
      'ECFF',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ]);
    expect(roll.keys.size).toBe(keys.length);
    expect(roll.problems).toHaveLength(4);
  });

  it('credentials: derived keys are acceptable roll keys', () => {
    const v = vector<{ cases: { salt: string; secret: string; seed: string; publicKey: string }[] }>(
      'credentials.json',
    );
    for (const c of v.cases) {
      const seed = scryptSync(c.secret, c.salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
      expect(seed.toString('hex')).toBe(c.seed);
      expect(hex(ed25519.getPublicKey(hexToBytes(c.seed)))).toBe(c.publicKey);
      expect(credentialProblem(hexToBytes(c.publicKey))).toBeNull();
    }
  });
});
