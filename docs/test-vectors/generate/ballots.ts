// ballots.json and receipts.json: three voters of the test election sign their ballots, and the ledger
// key signs a receipt for each, seq 0, 1, 2.
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ledgerKey, ledgerSeed, manifest, voters } from './election.js';
import { canonicalize, H, hex } from './reference.js';

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
  return {
    seed: hex(v.seed),
    publicKey: hex(v.publicKey),
    ballot,
    message,
    signature,
    submissionJcs,
    ballotHash: hex(H(utf8ToBytes(submissionJcs))),
  };
});

export function ballotVectors() {
  return {
    description:
      'Ballot signing: seed -> publicKey (RFC 8032), message = "tallyproof:ballot:v1:" || JCS(ballot), ' +
      'signature = Ed25519(seed, UTF-8(message)), ballotHash = SHA-256(JCS({"ballot":…,"signature":…})).',
    manifestElectionId: manifest.electionId,
    cases: ballotCases,
  };
}

export function receiptVectors() {
  const receiptCases = ballotCases.map((b, seq) => {
    const body = {
      version: 1,
      electionId: manifest.electionId,
      seq,
      ballotHash: b.ballotHash,
      receivedAt: `2026-03-01T12:00:0${seq}.${String(seq * 7).padStart(3, '0')}Z`,
    };
    const message = 'tallyproof:receipt:v1:' + canonicalize(body);
    return { receipt: { ...body, signature: hex(ed25519.sign(utf8ToBytes(message), ledgerSeed)) }, message };
  });
  return {
    description: 'Receipts signed by the ledger key over "tallyproof:receipt:v1:" || JCS(receipt without "signature").',
    ledgerSeed: hex(ledgerSeed),
    ledgerKey: hex(ledgerKey),
    cases: receiptCases,
  };
}
