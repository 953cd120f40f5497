import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { ballotFor, selectionsFor, shuffled, testManifest, voter, voters } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { verifyReceipt, ballotHash } from '../src/protocol/protocol.js';
import { receiptFor, type IngestOutcome, createElection, validateRoll } from '../src/index.js';
import { useTestLedger } from './helpers/test-ledger.js';

const execFileP = promisify(execFile);
const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 9));
const ledgerPub = Buffer.from(ledgerKey.publicKeyHex, 'hex');

const ledger = useTestLedger(ledgerKey, { threads: 2 });

async function newElection(id: string, n: number, over = {}) {
  const m = testManifest(id, ledgerKey.publicKeyHex, over);
  const vs = voters(n, `${id}-`);
  await createElection(ledger.db.app, m, await validateRoll(vs.map((v) => v.credential)));
  return { m, vs };
}

async function counts(electionId: string) {
  const [b] = await ledger.db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${electionId}`;
  const [h] = await ledger.db.admin`SELECT next_seq FROM election_heads WHERE election_id = ${electionId}`;
  const [r] = await ledger.db.admin`SELECT coalesce(sum(count), 0)::int AS n FROM rejected_attempt_counts`;
  return { ballots: b!.n as number, nextSeq: Number(h?.next_seq ?? -1), rejected: r!.n as number };
}

describe('ingest', () => {
  it('accepts a ballot with a valid signed receipt, committed before the reply', async () => {
    const { vs } = await newElection('accept', 3);
    const sub = ballotFor(vs[0]!, 'accept');
    const o = await ledger.ingestor.submit('accept', sub);
    expect(o.kind).toBe('accepted');
    if (o.kind !== 'accepted') return;
    expect(o.receipt.seq).toBe(0);
    expect(o.receipt.ballotHash).toBe(ballotHash(sub).toString('hex'));
    expect(verifyReceipt(ledgerPub, o.receipt)).toBe(true);
    const [row] = await ledger.db
      .admin`SELECT seq, ballot FROM ballots WHERE ballot_hash = decode(${o.receipt.ballotHash}, 'hex')`;
    expect(Number(row!.seq)).toBe(0);
    expect(JSON.parse(row!.ballot)).toEqual(sub.ballot);
    expect(await receiptFor(ledger.db.app, ledgerKey, o.receipt.ballotHash)).toEqual(o.receipt);
  });

  it('a byte-identical resubmission returns the original receipt and stores nothing', async () => {
    const { vs } = await newElection('retry', 2);
    const sub = ballotFor(vs[0]!, 'retry');
    const first = await ledger.ingestor.submit('retry', sub);
    const before = await counts('retry');
    const again = await Promise.all([
      ledger.ingestor.submit('retry', sub),
      ledger.ingestor.submit('retry', structuredClone(sub)),
    ]);
    for (const o of again) {
      expect(o.kind).toBe('resubmitted');
      if (o.kind === 'resubmitted' && first.kind === 'accepted') expect(o.receipt).toEqual(first.receipt);
    }
    expect(await counts('retry')).toEqual(before);
  });

  it('another ballot from a used credential is a duplicate with the original receipt and a running attempt count', async () => {
    const { vs } = await newElection('dup', 2);
    const first = await ledger.ingestor.submit('dup', ballotFor(vs[0]!, 'dup', { q1: ['oui'], council: [] }));
    expect(first.kind).toBe('accepted');
    const d1 = await ledger.ingestor.submit('dup', ballotFor(vs[0]!, 'dup', { q1: ['non'], council: [] }));
    const d2 = await ledger.ingestor.submit('dup', ballotFor(vs[0]!, 'dup', { q1: ['non'], council: ['bo'] }));
    expect(d1).toMatchObject({ kind: 'duplicate', attemptCount: 1 });
    expect(d2).toMatchObject({ kind: 'duplicate', attemptCount: 2 });
    if (d1.kind === 'duplicate' && first.kind === 'accepted') expect(d1.receipt).toEqual(first.receipt);
    // counted, not stored per attempt: one row of the credential with its running count
    const rows = await ledger.db
      .admin`SELECT reason, count::int AS n FROM rejected_attempt_counts WHERE election_id = 'dup'`;
    expect(rows.map((r) => [r.reason, r.n])).toEqual([['duplicate', 2]]);
    expect((await counts('dup')).ballots).toBe(1);
    // duplicates inside one batch: the first wins, the rest are duplicates, seq has no gap
    const burst = await Promise.all(
      [0, 1, 2].map((i) => ledger.ingestor.submit('dup', ballotFor(vs[1]!, 'dup', selectionsFor(i)))),
    );
    expect(burst.map((o) => o.kind).sort()).toEqual(['accepted', 'duplicate', 'duplicate']);
    expect((await counts('dup')).nextSeq).toBe(2);
  });

  it('records every rejected submission with its reason and changes nothing else', async () => {
    const { vs } = await newElection('rej', 2);
    await newElection('rej-future', 1, {
      opensAt: new Date(Date.now() + 3600_000).toISOString(),
      closesAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    const good = ballotFor(vs[0]!, 'rej');
    const outsider = voter('not-on-roll');
    const cases: [string, unknown, string][] = [
      ['rej', { ballot: good.ballot }, 'invalid-body'],
      ['rej', { ...good, extra: 1 }, 'invalid-body'],
      ['rej', { ...good, signature: good.signature.toUpperCase() }, 'invalid-hex'],
      ['rej', { ...good, ballot: { ...good.ballot, credential: good.ballot.credential.slice(2) } }, 'invalid-hex'],
      ['rej', { ...good, ballot: { ...good.ballot, version: '1' } }, 'invalid-body'],
      ['rej', 'not an object', 'invalid-body'],
      ['no-such', good, 'unknown-election'],
      ['rej', ballotFor(vs[0]!, 'other'), 'wrong-election'],
      ['rej', { ...good, signature: good.signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) }, 'bad-signature'],
      ['rej', ballotFor(vs[0]!, 'rej', { q1: ['oui', 'non'], council: [] }), 'invalid-selections'],
      ['rej', ballotFor(vs[0]!, 'rej', { q1: ['maybe'], council: [] }), 'invalid-selections'],
      ['rej', ballotFor(vs[0]!, 'rej', { q1: ['oui'] }), 'invalid-selections'],
      ['rej', ballotFor(vs[0]!, 'rej', { q1: ['oui'], council: [], extra: [] }), 'invalid-selections'],
      ['rej', ballotFor(outsider, 'rej'), 'credential-not-on-roll'],
      ['rej-future', ballotFor(voter('rej-future-0'), 'rej-future'), 'election-not-open'],
    ];
    const countsByReason = async () =>
      Object.fromEntries(
        (
          await ledger.db.admin`SELECT reason, sum(count)::int AS n FROM rejected_attempt_counts
                                WHERE reason IN ${ledger.db.admin(cases.map((c) => c[2]))} GROUP BY reason`
        ).map((r) => [r.reason as string, r.n as number]),
      );
    const reasonsBefore: Record<string, number> = await countsByReason();
    const before = await counts('rej');
    for (const [eid, body, code] of cases) {
      const o = await ledger.ingestor.submit(eid, body);
      expect(o, `${code}`).toMatchObject({ kind: 'rejected', code });
    }
    const after = await counts('rej');
    expect(after.ballots).toBe(before.ballots);
    expect(after.nextSeq).toBe(before.nextSeq);
    expect(after.rejected - before.rejected).toBe(cases.length);
    const expected = new Map<string, number>();
    for (const c of cases) expected.set(c[2], (expected.get(c[2]) ?? 0) + 1);
    expect(await countsByReason()).toEqual(
      Object.fromEntries([...expected].map(([reason, n]) => [reason, (reasonsBefore[reason] ?? 0) + n])),
    );
    const [{ n }] = await ledger.db
      .admin`SELECT count(*)::int AS n FROM ballots WHERE election_id IN ('rej', 'rej-future', 'no-such', 'other')`;
    expect(n).toBe(0);
  });

  it('refuses ballots once the election is closed', async () => {
    const { vs } = await newElection('closed', 2);
    await ledger.db.app`UPDATE election_heads SET closed = true WHERE election_id = 'closed'`;
    ledger.ingestor.elections.invalidate('closed');
    const o = await ledger.ingestor.submit('closed', ballotFor(vs[0]!, 'closed'));
    expect(o).toMatchObject({ kind: 'rejected', code: 'election-closed' });
  });

  it('keeps seq gap-free with 4 ingesting processes and 20% duplicates mixed in', async () => {
    const id = 'concurrent';
    const perProcess = 300;
    const total = perProcess * 4;
    const m = testManifest(id, ledgerKey.publicKeyHex);
    await createElection(
      ledger.db.app,
      m,
      await validateRoll(Array.from({ length: total }, (_, i) => voter(i).credential)),
    );
    // Each process casts its own voters plus 20% extra: byte-identical retries (variant 0) and other
    // ballots (variant 1) of voters that belong to the other processes, so they race across processes.
    const plans = [0, 1, 2, 3].map((p) => {
      const own = Array.from({ length: perProcess }, (_, i) => ({ voter: p * perProcess + i, variant: 0 }));
      const extra = Array.from({ length: perProcess / 5 }, (_, i) => ({
        voter: ((p + 1 + (i % 3)) % 4) * perProcess + ((i * 7) % perProcess),
        variant: i % 2,
      }));
      return shuffled([...own, ...extra], p + 1);
    });
    const child = fileURLToPath(new URL('./helpers/ingest-child.ts', import.meta.url));
    const results = await Promise.all(
      plans.map((plan) =>
        execFileP(
          process.execPath,
          ['--import', 'tsx', child, ledger.db.appUrl, id, ledgerKey.seed.toString('hex'), JSON.stringify(plan)],
          { maxBuffer: 64 << 20 },
        ).then(
          (r) =>
            JSON.parse(r.stdout) as {
              voter: number;
              variant: number;
              kind: IngestOutcome['kind'];
              seq: number | null;
              receipt: never;
            }[],
        ),
      ),
    );
    const all = results.flat();
    expect(all.length).toBe(total * 1.2);
    expect(all.filter((o) => o.kind === 'rejected')).toEqual([]);
    const accepted = all.filter((o) => o.kind === 'accepted');
    expect(accepted.length).toBe(total);
    expect(new Set(accepted.map((o) => o.voter)).size).toBe(total);
    expect(accepted.map((o) => o.seq).sort((a, b) => a! - b!)).toEqual(Array.from({ length: total }, (_, i) => i));
    for (const o of all) expect(verifyReceipt(ledgerPub, o.receipt)).toBe(true);
    const rows = await ledger.db.admin`SELECT seq FROM ballots WHERE election_id = ${id} ORDER BY seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: total }, (_, i) => i));
    const [{ creds }] = await ledger.db
      .admin`SELECT count(DISTINCT credential)::int AS creds FROM ballots WHERE election_id = ${id}`;
    expect(creds).toBe(total);
    const [{ dups }] = await ledger.db
      .admin`SELECT coalesce(sum(count), 0)::int AS dups FROM rejected_attempt_counts WHERE election_id = ${id} AND reason = 'duplicate'`;
    expect(dups).toBe(all.filter((o) => o.kind === 'duplicate').length);
    expect((await counts(id)).nextSeq).toBe(total);
  });
});

describe('append-only ledger', () => {
  it('the application role cannot update, delete or truncate ballots, nor rewrite a sealed window', async () => {
    const { vs } = await newElection('immutable', 1);
    const o = await ledger.ingestor.submit('immutable', ballotFor(vs[0]!, 'immutable'));
    expect(o.kind).toBe('accepted');
    await expect(ledger.db.app`UPDATE ballots SET ballot = '{}' WHERE election_id = 'immutable'`).rejects.toThrow(
      /permission denied|not allowed/,
    );
    await expect(ledger.db.app`DELETE FROM ballots WHERE election_id = 'immutable'`).rejects.toThrow(
      /permission denied|not allowed/,
    );
    await expect(ledger.db.app`TRUNCATE ballots`).rejects.toThrow(/permission denied|not allowed/);
    await expect(ledger.db.app`DELETE FROM rejected_attempts`).rejects.toThrow(/permission denied|not allowed/);
    await expect(ledger.db.app`DROP TABLE ballots`).rejects.toThrow(/must be owner|permission denied/);
    // the triggers bind the owner too
    await expect(ledger.db.admin`UPDATE ballots SET ballot = '{}' WHERE election_id = 'immutable'`).rejects.toThrow(
      /append-only/,
    );
    await expect(ledger.db.admin`DELETE FROM ballots WHERE election_id = 'immutable'`).rejects.toThrow(/append-only/);
    await ledger.db
      .app`INSERT INTO windows (election_id, window_index, first_seq, count, root) VALUES ('immutable', 0, 0, 1, ${Buffer.alloc(32, 1)})`;
    await expect(
      ledger.db.app`UPDATE windows SET root = ${Buffer.alloc(32, 2)} WHERE election_id = 'immutable'`,
    ).rejects.toThrow(/sealed/);
    await expect(ledger.db.app`DELETE FROM windows WHERE election_id = 'immutable'`).rejects.toThrow(
      /permission denied|not allowed/,
    );
    await ledger.db
      .app`UPDATE windows SET anchor_tx = '0xabc', anchor_block = 5, anchored_at = now() WHERE election_id = 'immutable'`;
    await expect(ledger.db.app`UPDATE windows SET anchor_tx = '0xdef' WHERE election_id = 'immutable'`).rejects.toThrow(
      /sealed/,
    );
    await expect(ledger.db.app`UPDATE elections SET manifest = '{}' WHERE election_id = 'immutable'`).rejects.toThrow(
      /cannot be changed/,
    );
    await expect(
      ledger.db.app`INSERT INTO credentials (election_id, credential) VALUES ('immutable', ${Buffer.alloc(32, 3)})`,
    ).rejects.toThrow(/frozen/);
    expect((await counts('immutable')).ballots).toBe(1);
  });

  it('migrations are idempotent', async () => {
    const { migrate, migrationFiles } = await import('../src/db/migrate.js');
    expect(await migrate(ledger.db.admin, { appPassword: null })).toEqual([]);
    const sql = postgres(ledger.db.url, { max: 1, onnotice: () => {} });
    const rows = await sql`SELECT version FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r.version)).toEqual(migrationFiles().map((m) => m.version));
    expect(rows.map((r) => r.version)).toContain('0007_aggregated_refusals');
    await sql.end();
  });
});
