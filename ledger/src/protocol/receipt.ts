// Receipts (docs/protocol.md): the ledger key's Ed25519 signature over
// "tallyproof:receipt:v1:" || JCS(receipt body), and its strict verification.
import type { KeyObject } from 'node:crypto';
import { jcs } from './jcs.js';
import { isHex, toHex } from './hash.js';
import { signMessage, verifyStrict } from './ed25519.js';
import { RECEIPT_DOMAIN, type Receipt, type ReceiptBody } from './protocol.js';

export function receiptMessage(body: ReceiptBody): Buffer {
  return Buffer.from(RECEIPT_DOMAIN + receiptJcs(body), 'utf8');
}

/**
 * JCS of a receipt body, written out: one is signed per ballot, and this is several times faster than
 * the general canonicaliser. Keys in JCS order; strings as JSON.stringify writes them (which is JCS's
 * string form); integers in decimal (JCS's number form for safe integers). Anything else takes jcs().
 */
export function receiptJcs(body: ReceiptBody): string {
  const { version, electionId, seq, ballotHash: bh, receivedAt, shard } = body;
  if (shard !== undefined) return jcs({ version, electionId, shard, seq, ballotHash: bh, receivedAt });
  if (
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(version) ||
    typeof electionId !== 'string' ||
    typeof bh !== 'string' ||
    typeof receivedAt !== 'string'
  ) {
    return jcs({ version, electionId, seq, ballotHash: bh, receivedAt });
  }
  return `{"ballotHash":${JSON.stringify(bh)},"electionId":${JSON.stringify(electionId)},"receivedAt":${JSON.stringify(receivedAt)},"seq":${seq},"version":${version}}`;
}

export function signReceipt(ledgerPrivateKey: KeyObject, body: ReceiptBody): Receipt {
  const { version, electionId, seq, ballotHash: bh, receivedAt, shard } = body;
  return {
    version,
    electionId,
    ...(shard === undefined ? {} : { shard }),
    seq,
    ballotHash: bh,
    receivedAt,
    signature: toHex(signMessage(ledgerPrivateKey, receiptMessage(body))),
  };
}

export function verifyReceipt(ledgerKey: Uint8Array, receipt: Receipt): boolean {
  if (!isHex(receipt.signature, 64)) return false;
  return verifyStrict(ledgerKey, receiptMessage(receipt), Buffer.from(receipt.signature, 'hex'));
}
