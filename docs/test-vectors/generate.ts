// Generates docs/test-vectors/*.json deterministically (run: npm run vectors). Written against the
// RFC texts with @noble/* and a recursive RFC 6962 reference, not with the server's code, so that the
// server (ledger/) and the verifier (verifier-cli/) are both checked against an outside source.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils.js';
import canonicalizeImport from 'canonicalize';

const canonicalize = canonicalizeImport as unknown as (v: unknown) => string;
const here = dirname(fileURLToPath(import.meta.url));
const hex = bytesToHex;
const H = (b: Uint8Array) => sha256(b);
const write = (name: string, value: unknown) => writeFileSync(join(here, name), JSON.stringify(value, null, 2) + '\n');

// Deterministic seeds: SHA-256 of a label, so anyone can re-derive them.
const seedOf = (label: string) => H(utf8ToBytes(label));

// ---------- RFC 6962 reference, recursive, straight from §2.1 ----------
const leafHash = (d: Uint8Array) => H(concatBytes(new Uint8Array([0]), d));
const nodeHash = (l: Uint8Array, r: Uint8Array) => H(concatBytes(new Uint8Array([1]), l, r));
const k = (n: number) => { let p = 1; while (p * 2 < n) p *= 2; return p; };
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return H(new Uint8Array(0));
  if (d.length === 1) return leafHash(d[0]!);
  const s = k(d.length);
  return nodeHash(mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}

const leaves = Array.from({ length: 33 }, (_, i) => H(utf8ToBytes(`tallyproof test leaf ${i}`)));
write('rfc6962-merkle.json', {
  description: 'RFC 6962 Merkle tree hashes (MTH) and audit paths (PATH), leaf-most sibling first, for every tree size 0..33 and every leaf. The tree of size n has leaves[0..n-1]; leaf i is SHA-256(utf8("tallyproof test leaf " + i)).',
  leaves: leaves.map(hex),
  trees: Array.from({ length: 34 }, (_, n) => ({
    size: n,
    root: hex(mth(leaves.slice(0, n))),
    proofs: Array.from({ length: n }, (_, m) => ({ leafIndex: m, auditPath: path(m, leaves.slice(0, n)).map(hex) })),
  })),
});

// ---------- JCS (RFC 8785) ----------
const jcsCases: { name: string; input: string; canonical: string }[] = [
  { name: 'key order by UTF-16 code units, non-ASCII keys (RFC 8785 §3.2.3)', input: '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}', canonical: '' },
  { name: 'nested objects sorted recursively, arrays keep order', input: '{"b":[3,{"z":1,"a":2}],"a":{"d":null,"c":true}}', canonical: '' },
  { name: 'integers and number serialisation (ECMAScript)', input: '[0,-0,1,-1,1e0,100,1.5,1e21,1e-7,9007199254740991,0.1,1E+2]', canonical: '' },
  { name: 'string escapes: only the mandatory ones, lowercase \\u00XX', input: '{"s":"quote\\" backslash\\\\ slash\\/ tab\\t nl\\n cr\\r bs\\b ff\\f ctl\\u0001\\u001f del\\u007f e\\u00e9 emoji\\ud83d\\ude00"}', canonical: '' },
  { name: 'whitespace removed', input: ' { "a" : [ 1 , 2 ] , "b" : "x" } ', canonical: '' },
  { name: 'a ballot', input: '{"version":1,"selections":{"q1":["yes"]},"electionId":"demo-2026","credential":"aa"}', canonical: '' },
];
for (const c of jcsCases) c.canonical = canonicalize(JSON.parse(c.input));
write('jcs.json', { description: 'RFC 8785 JSON Canonicalization Scheme. input is JSON text; canonical is the exact JCS output (compare as UTF-8 bytes).', cases: jcsCases });

// ---------- Manifest, roll, ballots, receipts ----------
const ledgerSeed = seedOf('tallyproof test vector ledger key');
const ledgerKey = ed25519.getPublicKey(ledgerSeed);
const manifest = {
  version: 1,
  electionId: 'vectors-2026',
  title: 'Test-vector election — référendum',
  contests: [
    { id: 'q1', title: 'Approve the law?', choices: [{ id: 'oui', label: 'Oui' }, { id: 'non', label: 'Non' }], minSelections: 1, maxSelections: 1 },
    { id: 'council', title: 'Council (up to 2)', choices: [{ id: 'ana', label: 'Ana' }, { id: 'bo', label: 'Bo' }, { id: 'chloe', label: 'Chloé' }], minSelections: 0, maxSelections: 2 },
  ],
  opensAt: '2026-01-01T00:00:00.000Z',
  closesAt: '2026-12-31T23:59:59.999Z',
  windowSeconds: 60,
  ledgerKey: hex(ledgerKey),
};
const voters = Array.from({ length: 5 }, (_, i) => {
  const seed = seedOf(`tallyproof test vector voter ${i}`);
  return { seed, publicKey: ed25519.getPublicKey(seed) };
});
const sortedRoll = voters.map((v) => v.publicKey).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
write('manifest.json', {
  description: 'An election manifest, its JCS text and manifestHash = SHA-256(JCS(manifest)).',
  manifest,
  jcs: canonicalize(manifest),
  manifestHash: hex(H(utf8ToBytes(canonicalize(manifest)))),
});
write('roll-root.json', {
  description: 'rollRoot = RFC 6962 MTH over the credentials\' 32 raw bytes sorted ascending (bytewise). Rolls of 0, 1, 2 and 5 keys.',
  cases: [0, 1, 2, 5].map((n) => {
    const keys = voters.slice(0, n).map((v) => v.publicKey);
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return { roll: keys.map(hex), sorted: sorted.map(hex), rollRoot: hex(mth(sorted)) };
  }),
});
void sortedRoll;

const selectionsList = [
  { q1: ['oui'], council: ['ana', 'bo'] },
  { q1: ['non'], council: [] },
  { q1: ['oui'], council: ['chloe'] },
];
const ballotCases = selectionsList.map((selections, i) => {
  const v = voters[i]!;
  const ballot = { version: 1, electionId: manifest.electionId, credential: hex(v.publicKey), selections };
  const message = 'tallyproof:ballot:v1:' + canonicalize(ballot);
  const signature = hex(ed25519.sign(utf8ToBytes(message), v.seed));
  const submission = { ballot, signature };
  const submissionJcs = canonicalize(submission);
  return { seed: hex(v.seed), publicKey: hex(v.publicKey), ballot, message, signature, submissionJcs, ballotHash: hex(H(utf8ToBytes(submissionJcs))) };
});
write('ballots.json', {
  description: 'Ballot signing: seed -> publicKey (RFC 8032), message = "tallyproof:ballot:v1:" || JCS(ballot), signature = Ed25519(seed, UTF-8(message)), ballotHash = SHA-256(JCS({"ballot":…,"signature":…})).',
  manifestElectionId: manifest.electionId,
  cases: ballotCases,
});

const receiptCases = ballotCases.map((b, seq) => {
  const body = { version: 1, electionId: manifest.electionId, seq, ballotHash: b.ballotHash, receivedAt: `2026-03-01T12:00:0${seq}.${String(seq * 7).padStart(3, '0')}Z` };
  const message = 'tallyproof:receipt:v1:' + canonicalize(body);
  return { receipt: { ...body, signature: hex(ed25519.sign(utf8ToBytes(message), ledgerSeed)) }, message };
});
write('receipts.json', {
  description: 'Receipts signed by the ledger key over "tallyproof:receipt:v1:" || JCS(receipt without "signature").',
  ledgerSeed: hex(ledgerSeed),
  ledgerKey: hex(ledgerKey),
  cases: receiptCases,
});

// ---------- Strict Ed25519 (RFC 8032 cofactorless, canonical, no small order) ----------
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;
const le = (n: bigint) => { const b = new Uint8Array(32); for (let i = 0; i < 32; i++) { b[i] = Number(n & 0xffn); n >>= 8n; } return b; };
const fromLe = (b: Uint8Array) => { let n = 0n; for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!); return n; };
const v0 = voters[0]!;
const msg = utf8ToBytes('tallyproof:ballot:v1:{"strict":"vector"}');
const good = ed25519.sign(msg, v0.seed);
const R = good.slice(0, 32);
const S = fromLe(good.slice(32));
const identity = hexToBytes('0100000000000000000000000000000000000000000000000000000000000000');
const order8 = hexToBytes('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
// With the identity as public key, [S]B = R + [k]A holds for R = [S]B and any k: valid if small-order keys were allowed.
const sIdent = 12345n;
const rIdent = ed25519.Point.BASE.multiply(sIdent).toBytes();
// Non-canonical encoding of the key: y + p encodes the same y when y < 19. Take the identity (y = 1): y + p.
const nonCanonicalIdentity = le(P + 1n);
const flip = (b: Uint8Array, i: number) => { const c = b.slice(); c[i]! ^= 0x01; return c; };
const strictCases = [
  { name: 'valid', publicKey: hex(v0.publicKey), signature: hex(good), valid: true, reason: null },
  { name: 'S + L (non-canonical S, accepted by lax verifiers)', publicKey: hex(v0.publicKey), signature: hex(concatBytes(R, le(S + L))), valid: false, reason: 's-non-canonical' },
  { name: 'S = L', publicKey: hex(v0.publicKey), signature: hex(concatBytes(R, le(L))), valid: false, reason: 's-non-canonical' },
  { name: 'identity public key (small order) with R = [S]B: passes the bare equation', publicKey: hex(identity), signature: hex(concatBytes(rIdent, le(sIdent))), valid: false, reason: 'key-small-order' },
  { name: 'order-8 public key', publicKey: hex(order8), signature: hex(good), valid: false, reason: 'key-small-order' },
  { name: 'non-canonical public key encoding (y = p + 1)', publicKey: hex(nonCanonicalIdentity), signature: hex(good), valid: false, reason: 'key-non-canonical' },
  { name: 'small-order R (identity)', publicKey: hex(v0.publicKey), signature: hex(concatBytes(identity, le(S))), valid: false, reason: 'r-small-order' },
  { name: 'non-canonical R encoding (y = p + 1)', publicKey: hex(v0.publicKey), signature: hex(concatBytes(nonCanonicalIdentity, le(S))), valid: false, reason: 'r-non-canonical' },
  { name: 'message changed', publicKey: hex(v0.publicKey), signature: hex(good), message: hex(flip(msg, 5)), valid: false, reason: 'signature-invalid' },
  { name: 'R bit flipped', publicKey: hex(v0.publicKey), signature: hex(concatBytes(flip(R, 0), good.slice(32))), valid: false, reason: 'signature-invalid' },
  { name: 'S bit flipped', publicKey: hex(v0.publicKey), signature: hex(concatBytes(R, flip(good.slice(32), 0))), valid: false, reason: 'signature-invalid' },
  { name: 'another key', publicKey: hex(voters[1]!.publicKey), signature: hex(good), valid: false, reason: 'signature-invalid' },
].map((c) => ({ message: hex(msg), ...c }));
// Self-check the construction: the identity-key case really passes the bare cofactorless equation.
if (!ed25519.Point.BASE.multiply(sIdent).equals(ed25519.Point.fromBytes(rIdent))) throw new Error('identity-key vector broken');
write('ed25519-strict.json', {
  description: 'Strict Ed25519 verification as Tallyproof requires it: RFC 8032 cofactorless equation, S < L, canonical encodings of R and the key, neither of small order. message is hex. reason is the first rule broken (informative).',
  smallOrderEncodings: [
    '0100000000000000000000000000000000000000000000000000000000000000', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    '0000000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000080',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  ],
  cases: strictCases,
});

// ---------- Credential derivation from a voter secret ----------
const derivation = [
  { electionId: manifest.electionId, secret: '1 85 05 78 006 048 22|A7K-93Q' },
  { electionId: manifest.electionId, secret: 'NAS-0000|code-0000' },
  { electionId: 'another-election', secret: 'NAS-0000|code-0000' },
].map((c) => {
  const seed = scrypt(utf8ToBytes(c.secret), utf8ToBytes('tallyproof:credential:v1:' + c.electionId), { N: 2 ** 15, r: 8, p: 1, dkLen: 32 });
  return { ...c, salt: 'tallyproof:credential:v1:' + c.electionId, seed: hex(seed), publicKey: hex(ed25519.getPublicKey(seed)) };
});
write('credentials.json', {
  description: 'Credential derived from a voter secret: seed = scrypt(UTF-8(secret), salt = UTF-8("tallyproof:credential:v1:" || electionId), N=2^15, r=8, p=1, dkLen=32); publicKey = Ed25519 public key of seed.',
  cases: derivation,
});
console.log('test vectors written to', here);
