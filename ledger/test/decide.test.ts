// decide(): the ingest rule without a database. Each case is a batch, the heads and credential states read
// under the lock, and the outcomes, seqs and rows it must give.
import { describe, expect, it } from 'vitest';
import { decide, headKey, type CheckedBallot, type CredentialState, type HeadState } from '../src/ingest/decide.js';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const LATER = NOW + 3600_000;
const ballot = (electionId: string, cred: string, hash: string, closesAtMs = LATER): CheckedBallot => ({
  electionId,
  closesAtMs,
  credHex: cred,
  hashHex: hash,
});
const onRoll = (existing: CredentialState['existing'] = null, attempts = 0): CredentialState => ({
  onRoll: true,
  existing,
  attempts,
});
// Heads by election id here: elections of one shard, whose head is shard 0's (headKey).
const heads = (entries: Record<string, HeadState>) => new Map(Object.entries(entries).map(([e, h]) => [headKey(e), h]));
const known = (entries: Record<string, CredentialState>) => new Map(Object.entries(entries));

describe('decide', () => {
  it('gives seqs from next_seq on, gap-free, per election, elections in id order', () => {
    const batch = [ballot('b', 'c1', 'h1'), ballot('a', 'c2', 'h2'), ballot('b', 'c3', 'h3'), ballot('a', 'c4', 'h4')];
    const d = decide(
      batch,
      heads({ a: { nextSeq: 10, closed: false }, b: { nextSeq: 0, closed: false } }),
      known({ 'b/c1': onRoll(), 'a/c2': onRoll(), 'b/c3': onRoll(), 'a/c4': onRoll() }),
      NOW,
    );
    expect(d.decisions.map((x) => (x.kind === 'accepted' ? x.ballot.seq : x.kind))).toEqual([0, 10, 1, 11]);
    expect(d.inserts).toEqual([1, 3, 0, 2]);
    expect(d.heads).toEqual([
      { electionId: 'a', shard: 0, nextSeq: 12 },
      { electionId: 'b', shard: 0, nextSeq: 2 },
    ]);
    expect(d.refusals).toEqual([]);
    expect(d.decisions[0]).toMatchObject({ ballot: { receivedAt: new Date(NOW).toISOString(), hashHex: 'h1' } });
  });

  it('refuses credentials off the roll and closed elections, by head or by the clock', () => {
    const batch = [
      ballot('a', 'off', 'h1'),
      ballot('b', 'c2', 'h2'),
      ballot('a', 'c3', 'h3', NOW),
      ballot('a', 'c4', 'h4'),
    ];
    const d = decide(
      batch,
      heads({ a: { nextSeq: 5, closed: false }, b: { nextSeq: 0, closed: true } }),
      known({
        'a/off': { onRoll: false, existing: null, attempts: 0 },
        'b/c2': onRoll(),
        'a/c3': onRoll(),
        'a/c4': onRoll(),
      }),
      NOW,
    );
    expect(d.decisions.map((x) => (x.kind === 'rejected' ? x.code : x.kind))).toEqual([
      'credential-not-on-roll',
      'election-closed',
      'election-closed',
      'accepted',
    ]);
    expect(d.decisions[0]).toMatchObject({
      detail: 'credential off is not on the roll',
      message: 'credential off is not on the roll of a',
    });
    expect(d.decisions[3]).toMatchObject({ ballot: { seq: 5 } });
    expect(d.heads).toEqual([{ electionId: 'a', shard: 0, nextSeq: 6 }]);
    // Audit rows in decision order: election a (ballots 0 and 2), then election b (ballot 1).
    expect(d.refusals).toEqual([0, 2, 1]);
  });

  it('answers a resubmission with the original, and counts duplicates on from the stored count', () => {
    const stored = { seq: 3, hashHex: 'h-orig', receivedAt: '2026-01-01T09:00:00.000Z' };
    const batch = [ballot('a', 'c1', 'h-orig'), ballot('a', 'c1', 'h-other'), ballot('a', 'c1', 'h-third')];
    const d = decide(batch, heads({ a: { nextSeq: 7, closed: false } }), known({ 'a/c1': onRoll(stored, 4) }), NOW);
    expect(d.decisions).toEqual([
      { kind: 'resubmitted', ballot: stored },
      { kind: 'duplicate', ballot: stored, attemptCount: 5 },
      { kind: 'duplicate', ballot: stored, attemptCount: 6 },
    ]);
    expect(d.inserts).toEqual([]);
    expect(d.heads).toEqual([]);
    expect(d.refusals).toEqual([1, 2]);
  });

  it('decides a credential repeated within one batch in order: the first is accepted, the rest see it', () => {
    const batch = [ballot('a', 'c1', 'h1'), ballot('a', 'c1', 'h1'), ballot('a', 'c1', 'h2')];
    const d = decide(batch, heads({ a: { nextSeq: 0, closed: false } }), known({ 'a/c1': onRoll() }), NOW);
    expect(d.decisions.map((x) => x.kind)).toEqual(['accepted', 'resubmitted', 'duplicate']);
    expect(d.decisions[2]).toMatchObject({ ballot: { seq: 0, hashHex: 'h1' }, attemptCount: 1 });
    expect(d.inserts).toEqual([0]);
  });

  it('leaves its inputs as they were', () => {
    const state = onRoll();
    const k = known({ 'a/c1': state });
    decide([ballot('a', 'c1', 'h1')], heads({ a: { nextSeq: 0, closed: false } }), k, NOW);
    expect(k.get('a/c1')).toEqual({ onRoll: true, existing: null, attempts: 0 });
  });

  it('refuses to decide without the lookup of a credential or the head of an election', () => {
    expect(() =>
      decide([ballot('a', 'c1', 'h1')], heads({ a: { nextSeq: 0, closed: false } }), known({}), NOW),
    ).toThrow(/no lookup/);
    expect(() => decide([ballot('a', 'c1', 'h1')], heads({}), known({ 'a/c1': onRoll() }), NOW)).toThrow(/no head/);
  });

  it('gives each shard of an election its own gap-free seqs, and names the shard in what it stores', () => {
    const inShard = (credHex: string, hashHex: string, shard: number): CheckedBallot => ({
      ...ballot('s', credHex, hashHex),
      shard,
    });
    const batch = [inShard('c1', 'h1', 3), inShard('c2', 'h2', 0), inShard('c3', 'h3', 3), inShard('c4', 'h4', 1)];
    const d = decide(
      batch,
      new Map([
        [headKey('s', 0), { nextSeq: 7, closed: false }],
        [headKey('s', 1), { nextSeq: 0, closed: false }],
        [headKey('s', 3), { nextSeq: 2, closed: false }],
      ]),
      known({ 's/c1': onRoll(), 's/c2': onRoll(), 's/c3': onRoll(), 's/c4': onRoll() }),
      NOW,
    );
    expect(d.decisions.map((x) => (x.kind === 'accepted' ? [x.ballot.shard, x.ballot.seq] : x.kind))).toEqual([
      [3, 2],
      [0, 7],
      [3, 3],
      [1, 0],
    ]);
    expect(d.heads).toEqual([
      { electionId: 's', shard: 0, nextSeq: 8 },
      { electionId: 's', shard: 1, nextSeq: 1 },
      { electionId: 's', shard: 3, nextSeq: 4 },
    ]);
    // A shard whose head was not read is a bug upstream, never a guess.
    expect(() => decide([inShard('c1', 'h1', 5)], new Map(), known({ 's/c1': onRoll() }), NOW)).toThrow(/shard 5/);
  });
});
