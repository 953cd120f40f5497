// Wire format v1 (docs/protocol.md, normative): a ballot. Its shape and selections against the manifest's rules
// (checkBallotRules), the message its voter signs, and ballotHash. Ballots come from the ledger under
// audit, so they are checked field by field and never trusted to have the right shape.
import { isHex, sha256Parts, utf8 } from './hex.js';
import { hasExactKeys, isPlainObject, ownValue, type BallotRules } from './protocol.js';

/** Domain prefix of the message a voter signs. */
export const BALLOT_DOMAIN = 'tallyproof:ballot:v1:';

export interface Ballot {
  version: 1;
  electionId: string;
  credential: string;
  selections: Record<string, string[]>;
}

const BALLOT_KEYS = ['version', 'electionId', 'credential', 'selections'] as const;

export type BallotCheck = { ok: true; choices: number[] } | { ok: false; problem: string };

/**
 * The ballot's shape and selections against the manifest: every contest present and no other, each
 * choice known and at most once, a count within [min, max]. On success, the flat choice indexes.
 */
export function checkBallotRules(ballot: unknown, rules: BallotRules): BallotCheck {
  if (!isPlainObject(ballot) || !hasExactKeys(ballot, BALLOT_KEYS))
    return { ok: false, problem: `the ballot must have exactly the keys ${BALLOT_KEYS.join(', ')}` };
  if (ballot.version !== 1) return { ok: false, problem: 'ballot.version must be 1' };
  if (ballot.electionId !== rules.electionId)
    return {
      ok: false,
      problem:
        `ballot.electionId is ${JSON.stringify(String(ballot.electionId).slice(0, 64))}, not ` + `${rules.electionId}`,
    };
  if (!isHex(ballot.credential, 32)) return { ok: false, problem: 'ballot.credential must be 32-byte lowercase hex' };
  const selections = ballot.selections;
  if (!isPlainObject(selections)) return { ok: false, problem: 'ballot.selections must be an object' };
  const given = Object.keys(selections);
  if (given.length !== rules.contests.length) {
    const unknown = given.find((c) => !rules.contests.some((x) => x.id === c));
    return {
      ok: false,
      problem:
        unknown !== undefined ? `unknown contest ${JSON.stringify(unknown.slice(0, 64))}` : 'a contest is missing',
    };
  }
  const choices: number[] = [];
  for (const contest of rules.contests) {
    const list = ownValue(selections, contest.id);
    if (!Array.isArray(list)) return { ok: false, problem: `contest ${contest.id} is missing or not a list` };
    const seen = new Set<number>();
    for (const k of list) {
      const index = typeof k === 'string' ? contest.choices.get(k) : undefined;
      if (index === undefined)
        return {
          ok: false,
          problem: `contest ${contest.id}: unknown choice ${JSON.stringify(String(k).slice(0, 64))}`,
        };
      if (seen.has(index)) return { ok: false, problem: `contest ${contest.id}: choice ${k} repeats` };
      seen.add(index);
      choices.push(index);
    }
    if (list.length < contest.min || list.length > contest.max) {
      return {
        ok: false,
        problem: `contest ${contest.id}: ${list.length} selections, allowed ${contest.min}..${contest.max}`,
      };
    }
  }
  return { ok: true, choices };
}

const BALLOT_DOMAIN_BYTES = utf8(BALLOT_DOMAIN);
const SUBMISSION_HEAD = utf8('{"ballot":');

/**
 * The bytes a voter signs: "tallyproof:ballot:v1:" || JCS(ballot). `ballotJcsBytes`: UTF-8 of
 * JCS(ballot), if at hand.
 */
export function ballotMessage(ballotJcs: string, ballotJcsBytes: Uint8Array = utf8(ballotJcs)): Uint8Array {
  const message = new Uint8Array(BALLOT_DOMAIN_BYTES.length + ballotJcsBytes.length);
  message.set(BALLOT_DOMAIN_BYTES, 0);
  message.set(ballotJcsBytes, BALLOT_DOMAIN_BYTES.length);
  return message;
}

/**
 * JCS({"ballot":…,"signature":…}) from the ballot's JCS text: "ballot" sorts before "signature", and a
 * lowercase hex string needs no escaping, so this concatenation is the canonical serialisation.
 */
export function submissionJcs(ballotJcs: string, signatureHex: string): string {
  if (!isHex(signatureHex, 64)) throw new TypeError('submissionJcs: the signature must be 64-byte lowercase hex');
  return `{"ballot":${ballotJcs},"signature":"${signatureHex}"}`;
}

/**
 * ballotHash = H(JCS({"ballot":…,"signature":…})), hashing submissionJcs() in three parts so that the
 * ballot's UTF-8 bytes (`ballotJcsBytes`, if at hand) are encoded once for the message and the hash.
 */
export function ballotHash(
  ballotJcs: string,
  signatureHex: string,
  ballotJcsBytes: Uint8Array = utf8(ballotJcs),
): Uint8Array {
  if (!isHex(signatureHex, 64)) throw new TypeError('ballotHash: the signature must be 64-byte lowercase hex');
  return sha256Parts(SUBMISSION_HEAD, ballotJcsBytes, utf8(`,"signature":"${signatureHex}"}`));
}
