// The one close path (ledger/src/close.ts), as the application role: closeHead closes the head once and for
// all, even against ingest in flight; closeElection recounts once and keeps the first stored result.
import { describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ProtocolError, closeElection, closeHead, computeTally, resultHash, type IngestOutcome } from '../src/index.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 13));

const ledger = useTestLedger(ledgerKey);

async function row(id: string) {
  const [r] = await ledger.db.admin`
    SELECT h.closed, h.next_seq, e.close_requested_at, encode(e.result_hash, 'hex') AS result_hash, e.total_ballots
    FROM elections e JOIN election_heads h USING (election_id) WHERE e.election_id = ${id}`;
  return r!;
}

function protocolCode(err: unknown): string | null {
  return err instanceof ProtocolError ? err.code : null;
}

describe('closeHead', () => {
  it('closes the head once: close_requested_at is set by the first call and kept by the next', async () => {
    const vs = await ledger.newElection('head-once', 4);
    await ledger.castAll('head-once', vs.slice(0, 3));
    const first = await closeHead(ledger.db.app, 'head-once');
    expect(first).toEqual({ nextSeq: 3, shardNextSeq: [3], resultHash: null, totalBallots: null });
    const after = await row('head-once');
    expect(after.closed).toBe(true);
    expect(after.close_requested_at).toBeInstanceOf(Date);

    expect(await closeHead(ledger.db.app, 'head-once')).toEqual(first);
    expect((await row('head-once')).close_requested_at).toEqual(after.close_requested_at);
    const late = await ledger.ingestor.submit('head-once', ballotFor(vs[3]!, 'head-once', selectionsFor(3)));
    expect(late).toMatchObject({ kind: 'rejected', code: 'election-closed' });
  });

  it('refuses an unknown election with unknown-election', async () => {
    expect(protocolCode(await closeHead(ledger.db.app, 'no-such-election').catch((e: unknown) => e))).toBe(
      'unknown-election',
    );
  });

  it('two concurrent closes both resolve, with the same head', async () => {
    const vs = await ledger.newElection('head-twice', 5);
    await ledger.castAll('head-twice', vs);
    const [a, b] = await Promise.all([closeHead(ledger.db.app, 'head-twice'), closeHead(ledger.db.app, 'head-twice')]);
    expect(a).toEqual({ nextSeq: 5, shardNextSeq: [5], resultHash: null, totalBallots: null });
    expect(b).toEqual(a);
    expect((await row('head-twice')).closed).toBe(true);
  });

  it('against ingest in flight: after it resolves no ballot commits; acknowledged seqs are below nextSeq', async () => {
    const id = 'head-race';
    const vs = await ledger.newElection(id, 400);
    const outcomes: { outcome: IngestOutcome; sentAfterClose: boolean }[] = [];
    let next = 0;
    let closed = false;
    // Eight clients, each one ballot at a time, going on for a few ballots after the close resolved.
    const clients = Array.from({ length: 8 }, async () => {
      let afterClose = 0;
      while (afterClose < 3 && next < vs.length) {
        const i = next++;
        const sentAfterClose = closed;
        const outcome = await ledger.ingestor.submit(id, ballotFor(vs[i]!, id, selectionsFor(i)));
        outcomes.push({ outcome, sentAfterClose });
        if (sentAfterClose) afterClose++;
      }
    });
    while (Number((await row(id)).next_seq) < 30) await new Promise((r) => setTimeout(r, 2));
    const { nextSeq } = await closeHead(ledger.db.app, id);
    closed = true;
    await Promise.all(clients);

    const accepted = outcomes.flatMap((o) => (o.outcome.kind === 'accepted' ? [o.outcome.receipt.seq] : []));
    const refused = outcomes.filter((o) => o.outcome.kind !== 'accepted');
    expect(accepted.length).toBe(nextSeq);
    expect(accepted.sort((x, y) => x - y)).toEqual(Array.from({ length: nextSeq }, (_, i) => i));
    expect(refused.length).toBeGreaterThanOrEqual(8 * 3);
    for (const o of refused) expect(o.outcome).toMatchObject({ kind: 'rejected', code: 'election-closed' });
    for (const o of outcomes) if (o.sentAfterClose) expect(o.outcome.kind).toBe('rejected');
    const [{ n }] = await ledger.db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${id}`;
    expect(n).toBe(nextSeq);
    expect(Number((await row(id)).next_seq)).toBe(nextSeq);
  });
});

describe('closeElection', () => {
  it('closes, recounts through the closed head and stores the result once', async () => {
    const vs = await ledger.newElection('final', 6);
    await ledger.castAll('final', vs);
    const closed = await closeElection(ledger.db.app, 'final');
    const tally = await computeTally(ledger.db.app, 'final');
    const expected = { resultHash: resultHash(tally), totalBallots: 6 };
    expect(closed.recount).toEqual(expected);
    expect(closed.stored).toEqual(expected);
    expect(closed.nextSeq).toBe(6);
    expect(closed.tally.tally).toEqual(tally.tally);
    expect(closed.tally.totalBallots).toBe(6);
    expect(closed.election).toMatchObject({ electionId: 'final', closed: true, closeTx: null });
    const stored = await row('final');
    expect({
      closed: stored.closed,
      resultHash: stored.result_hash,
      totalBallots: Number(stored.total_ballots),
    }).toEqual({ closed: true, ...expected });

    const again = await closeElection(ledger.db.app, 'final');
    expect(again.recount).toEqual(expected);
    expect(again.stored).toEqual(expected);
  });

  it('an election without ballots closes with totalBallots 0', async () => {
    await ledger.newElection('empty', 3);
    const closed = await closeElection(ledger.db.app, 'empty');
    expect(closed.nextSeq).toBe(0);
    expect(closed.stored).toEqual({ resultHash: resultHash(closed.tally), totalBallots: 0 });
  });

  it('refuses unknown-election, and roll-pending without closing anything', async () => {
    expect(protocolCode(await closeElection(ledger.db.app, 'nowhere').catch((e: unknown) => e))).toBe(
      'unknown-election',
    );
    await ledger.newElection('pending', 3, { pending: true });
    expect(protocolCode(await closeElection(ledger.db.app, 'pending').catch((e: unknown) => e))).toBe('roll-pending');
    expect(await row('pending')).toMatchObject({ closed: false, close_requested_at: null, result_hash: null });
  });

  it('two concurrent closes store one result and both answer it', async () => {
    const vs = await ledger.newElection('race', 7);
    await ledger.castAll('race', vs);
    const [a, b] = await Promise.all([closeElection(ledger.db.app, 'race'), closeElection(ledger.db.app, 'race')]);
    expect(a.stored).toEqual(a.recount);
    expect(b.stored).toEqual(a.stored);
    expect(b.recount).toEqual(a.recount);
    expect((await row('race')).result_hash).toBe(a.stored.resultHash);
  });

  it('a result stored first by another writer wins: it is answered as stored, next to the recount', async () => {
    const vs = await ledger.newElection('stored-first', 4);
    await ledger.castAll('stored-first', vs);
    const other = 'ab'.repeat(32);
    await ledger.db.admin`UPDATE elections SET result_hash = ${Buffer.from(other, 'hex')}, total_ballots = 4
                   WHERE election_id = 'stored-first'`;
    const closed = await closeElection(ledger.db.app, 'stored-first');
    expect(closed.stored).toEqual({ resultHash: other, totalBallots: 4 });
    expect(closed.recount.resultHash).not.toBe(other);
    expect(closed.recount).toEqual({
      resultHash: resultHash(await computeTally(ledger.db.app, 'stored-first')),
      totalBallots: 4,
    });
    expect((await row('stored-first')).result_hash).toBe(other);
  });
});
