// shards.json: sharded elections (docs/protocol.md section 13). shardOf, the 60-byte window records, an interval
// root with every record's audit path, and a small election of 4 shards whose windows are gathered into two
// intervals, with one ballot's signed receipt and its two-level proof bundle. Everything is computed here from
// the text (noble SHA-256 and Ed25519, the recursive RFC 6962 reference); the receipts are then signed by the
// ledger's own signing code (ledger/src/protocol/receipt.ts), and the generator stops if the two disagree.
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ledgerKeyFromSeed } from '../../../ledger/src/ledger-key.js';
import { signReceipt } from '../../../ledger/src/protocol/receipt.js';
import { ledgerKey, ledgerSeed, manifest, voters } from './election.js';
import { canonicalize, H, hex, mth, path, seedOf } from './reference.js';

const SHARD_COUNTS = [1, 2, 16, 1024];

/** uint32_be(SHA-256(credential)[0..4]) mod S. */
function shardOf(credential: Uint8Array, shards: number): number {
  const d = H(credential);
  return new DataView(d.buffer, d.byteOffset, 4).getUint32(0, false) % shards;
}

interface WindowRecord {
  shard: number;
  windowIndex: number;
  firstSeq: number;
  count: number;
  root: string;
}

/** uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || root. */
function recordBytes(r: WindowRecord): Uint8Array {
  const out = new Uint8Array(60);
  const view = new DataView(out.buffer);
  view.setUint32(0, r.shard, false);
  view.setBigUint64(4, BigInt(r.windowIndex), false);
  view.setBigUint64(12, BigInt(r.firstSeq), false);
  view.setBigUint64(20, BigInt(r.count), false);
  out.set(Buffer.from(r.root, 'hex'), 28);
  return out;
}

const leafHashOf = (data: Uint8Array) => H(new Uint8Array([0, ...data]));

const signer = ledgerKeyFromSeed(ledgerSeed);
if (signer.publicKeyHex !== hex(ledgerKey)) throw new Error('the ledger derives another key from the vector seed');

/** A receipt signed by the ledger's code, checked against noble's signature over the message written here. */
function signedReceipt(body: {
  version: 1;
  electionId: string;
  shard: number;
  seq: number;
  ballotHash: string;
  receivedAt: string;
}) {
  const message = 'tallyproof:receipt:v1:' + canonicalize(body);
  const receipt = signReceipt(signer.privateKey, body);
  if (receipt.signature !== hex(ed25519.sign(utf8ToBytes(message), ledgerSeed)))
    throw new Error(`the ledger signs receipt seq ${body.seq} of shard ${body.shard} otherwise than the reference`);
  return { receipt, message };
}

function shardOfVectors() {
  const credentials = [
    '00'.repeat(32),
    'ff'.repeat(32),
    ...voters.map((v) => hex(v.publicKey)),
    ...[0, 1, 2].map((i) => hex(ed25519.getPublicKey(seedOf(`tallyproof test vector shard voter ${i}`)))),
  ];
  return credentials.map((credential) => {
    const digest = H(Buffer.from(credential, 'hex'));
    return {
      credential,
      sha256: hex(digest),
      uint32: new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false),
      shards: SHARD_COUNTS.map((shards) => ({ shards, shard: shardOf(Buffer.from(credential, 'hex'), shards) })),
    };
  });
}

function recordVectors() {
  const root = (label: string) => hex(H(utf8ToBytes(label)));
  const records: WindowRecord[] = [
    { shard: 0, windowIndex: 0, firstSeq: 0, count: 1, root: root('window root a') },
    { shard: 3, windowIndex: 7, firstSeq: 1234, count: 56, root: root('window root b') },
    { shard: 1023, windowIndex: 2 ** 32 + 5, firstSeq: 2 ** 40 + 3, count: 2 ** 33, root: root('window root c') },
    {
      shard: 2 ** 32 - 1,
      windowIndex: Number.MAX_SAFE_INTEGER,
      firstSeq: Number.MAX_SAFE_INTEGER - 1,
      count: 1,
      root: 'ff'.repeat(32),
    },
  ];
  return records.map((record) => {
    const bytes = recordBytes(record);
    return { record, bytes: hex(bytes), leafHash: hex(leafHashOf(bytes)) };
  });
}

// ---- a small election of 4 shards ----

const SHARDS = 4;
const shardedManifest = { ...manifest, electionId: 'vectors-shards-2026', shards: SHARDS };
const selectionsList = [
  { q1: ['oui'], council: ['ana', 'bo'] },
  { q1: ['non'], council: [] },
  { q1: ['oui'], council: ['chloe'] },
  { q1: ['non'], council: ['bo'] },
];

function shardedElection() {
  const ballots = Array.from({ length: 14 }, (_, i) => {
    const seed = seedOf(`tallyproof test vector shard voter ${i}`);
    const credential = ed25519.getPublicKey(seed);
    const ballot = {
      version: 1,
      electionId: shardedManifest.electionId,
      credential: hex(credential),
      selections: selectionsList[i % selectionsList.length]!,
    };
    const signature = hex(ed25519.sign(utf8ToBytes('tallyproof:ballot:v1:' + canonicalize(ballot)), seed));
    const submission = { ballot, signature };
    return {
      shard: shardOf(credential, SHARDS),
      submission,
      ballotHash: hex(H(utf8ToBytes(canonicalize(submission)))),
    };
  });
  // Each shard's ballots in arrival order get seqs 0, 1, …; its windows hold at most 2 ballots each.
  const shards = Array.from({ length: SHARDS }, (_, s) => {
    const rows = ballots
      .filter((b) => b.shard === s)
      .map((b, seq) => ({
        shard: s,
        seq,
        ballotHash: b.ballotHash,
        submission: b.submission,
        receivedAt: `2026-03-01T12:0${s}:${String(10 + seq).padStart(2, '0')}.${String(seq * 11).padStart(3, '0')}Z`,
      }));
    const windows: WindowRecord[] = [];
    for (let first = 0; first < rows.length; first += 2) {
      const leaves = rows.slice(first, first + 2).map((r) => Buffer.from(r.ballotHash, 'hex'));
      windows.push({
        shard: s,
        windowIndex: windows.length,
        firstSeq: first,
        count: leaves.length,
        root: hex(mth(leaves)),
      });
    }
    return { shard: s, rows, windows };
  });
  // Interval 0 gathers every shard's window 0, interval 1 every later window: (shard, window index) order.
  const allWindows = shards.flatMap((s) => s.windows);
  const intervals = [0, 1].map((index) => {
    const records = allWindows
      .filter((w) => (index === 0 ? w.windowIndex === 0 : w.windowIndex > 0))
      .sort((a, b) => a.shard - b.shard || a.windowIndex - b.windowIndex);
    const data = records.map(recordBytes);
    return {
      index,
      windowCount: records.length,
      ballotCount: records.reduce((n, r) => n + r.count, 0),
      root: hex(mth(data)),
      records,
      recordBytes: data.map(hex),
      auditPaths: data.map((_, m) => ({ recordIndex: m, auditPath: path(m, data).map(hex) })),
    };
  });
  return { shards, intervals };
}

export function shardsVectors() {
  const election = shardedElection();
  const [interval0, interval1] = election.intervals;
  if (interval0!.windowCount < 3 || interval1!.windowCount < 2) throw new Error('the vector election is too small');

  // The two-level example: the second ballot of a window of 2, in interval 1, at a record index > 0.
  const example = interval1!.records
    .map((record, recordIndex) => ({ record, recordIndex }))
    .find(({ record, recordIndex }) => record.count === 2 && recordIndex > 0);
  if (example === undefined) throw new Error('no window of 2 ballots at a record index > 0 in interval 1');
  const { record: w, recordIndex } = example;
  const shardRows = election.shards[w.shard]!.rows;
  const row = shardRows[w.firstSeq + 1]!;
  const leaves = shardRows.slice(w.firstSeq, w.firstSeq + w.count).map((r) => Buffer.from(r.ballotHash, 'hex'));
  const { receipt, message } = signedReceipt({
    version: 1,
    electionId: shardedManifest.electionId,
    shard: row.shard,
    seq: row.seq,
    ballotHash: row.ballotHash,
    receivedAt: row.receivedAt,
  });

  return {
    description:
      'Shards (docs/protocol.md section 13). shardOf: shard = uint32_be(SHA-256(credential)[0..4]) mod S over the ' +
      "credential's 32 raw bytes, for S in 1, 2, 16, 1024. windowRecords: the 60-byte record uint32_be(shard) || " +
      'uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || root, and its RFC 6962 leaf hash ' +
      "SHA-256(0x00 || record). election: a manifest of 4 shards and its hash; 14 ballots, each in its credential's " +
      "shard with the shard's own seq from 0; each shard's windows of at most 2 ballots (root = MTH of their " +
      'ballotHash leaves in seq order); interval 0 gathers every window 0, interval 1 every later window, records ' +
      "in (shard, windowIndex) order, root = MTH of the records, with every record's audit path. receipts: every " +
      'ballot\'s receipt with "shard", signed over "tallyproof:receipt:v1:" || JCS({ballotHash,electionId,' +
      "receivedAt,seq,shard,version}). twoLevel: one ballot's proof bundle as GET /api/v1/receipts/{ballotHash} " +
      "serves it: its path to the window root, then its window record's path to the interval root.",
    shardOf: shardOfVectors(),
    windowRecords: recordVectors(),
    election: {
      manifest: shardedManifest,
      manifestJcs: canonicalize(shardedManifest),
      manifestHash: hex(H(utf8ToBytes(canonicalize(shardedManifest)))),
      ledgerSeed: hex(ledgerSeed),
      ledgerKey: hex(ledgerKey),
      shards: election.shards.map((s) => ({
        shard: s.shard,
        ledger: s.rows.map((r) => ({
          shard: r.shard,
          seq: r.seq,
          ballotHash: r.ballotHash,
          ballot: r.submission.ballot,
          signature: r.submission.signature,
          receivedAt: r.receivedAt,
        })),
        windows: s.windows,
      })),
      intervals: election.intervals,
      receipts: election.shards.flatMap((s) =>
        s.rows.map((r) =>
          signedReceipt({
            version: 1,
            electionId: shardedManifest.electionId,
            shard: r.shard,
            seq: r.seq,
            ballotHash: r.ballotHash,
            receivedAt: r.receivedAt,
          }),
        ),
      ),
    },
    twoLevel: {
      receiptMessage: message,
      bundle: {
        receipt,
        status: 'anchored',
        window: { shard: w.shard, index: w.windowIndex, firstSeq: w.firstSeq, count: w.count, root: w.root },
        inclusion: { leafIndex: row.seq - w.firstSeq, auditPath: path(row.seq - w.firstSeq, leaves).map(hex) },
        interval: {
          index: interval1!.index,
          windowCount: interval1!.windowCount,
          ballotCount: interval1!.ballotCount,
          root: interval1!.root,
          recordIndex,
          auditPath: interval1!.auditPaths[recordIndex]!.auditPath,
        },
      },
      windowRecord: interval1!.recordBytes[recordIndex],
    },
  };
}
