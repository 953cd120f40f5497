// Step 1 of a row check: a ledger line's fields. A ledger line is
// {"seq","ballotHash","ballot","signature","receivedAt"}, preceded by "shard" in an election of several shards
// (docs/protocol.md 13.3); `ballot` is the ballot object (its raw text is taken from the line) or a string
// holding the stored JCS text.
import { isHex } from '../hex.js';
import { rawMemberOnce } from '../jcs.js';
import { isPlainObject, timeMs } from '../protocol.js';

/** A readable row: the fields, with the ballot's value and its text as sent. */
export interface LedgerRow {
  /** The line's shard, -1 when it names none. */
  shard: number;
  seq: number;
  ballotHash: string;
  ballot: unknown;
  ballotText: string;
  signature: string;
  receivedAt: string;
  /** receivedAt in ms since the epoch. */
  receivedAtMs: number;
  /** `ballotText` is the text `ballot` was parsed from (false when the line repeats the "ballot" member). */
  ballotTextIsSource: boolean;
}

/** Step 1: parse the line into a row, or say why it is not one. */
export function parseLedgerRow(line: string): LedgerRow | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!isPlainObject(value)) return 'not a JSON object';
  const { shard: shardValue, seq, ballotHash: hash, ballot, signature, receivedAt } = value;
  let shard = -1;
  if (Object.hasOwn(value, 'shard')) {
    if (typeof shardValue !== 'number' || !Number.isSafeInteger(shardValue) || shardValue < 0)
      return 'shard is not a non-negative integer';
    shard = shardValue;
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'seq is not a non-negative integer';
  if (!isHex(hash, 32)) return 'ballotHash is not 32-byte lowercase hex';
  if (!isHex(signature, 64)) return 'signature is not 64-byte lowercase hex';
  const receivedAtMs = timeMs(receivedAt);
  if (Number.isNaN(receivedAtMs)) return 'receivedAt is not an RFC 3339 UTC time with milliseconds';
  if (typeof ballot === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ballot);
    } catch {
      return 'ballot text is not JSON';
    }
    return {
      shard,
      seq,
      ballotHash: hash,
      ballot: parsed,
      ballotText: ballot,
      signature,
      receivedAt: receivedAt as string,
      receivedAtMs,
      ballotTextIsSource: true,
    };
  }
  const member = rawMemberOnce(line, 'ballot');
  if (member === undefined || !isPlainObject(ballot)) return 'ballot is missing or not an object';
  return {
    shard,
    seq,
    ballotHash: hash,
    ballot,
    ballotText: member.text,
    signature,
    receivedAt: receivedAt as string,
    receivedAtMs,
    ballotTextIsSource: member.once,
  };
}
