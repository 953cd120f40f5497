// Every piece of ledger state is append-only or monotonic for the application role (0006 and 0002): the
// election heads only move forward and a close is final; the elections' chain and result columns are
// write-once. One case per column, each as the application role, with the forward move allowed where
// there is one.
import { describe, expect, it } from 'vitest';
import type { Sql } from 'postgres';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { useTestLedger } from './helpers/test-ledger.js';

const ledger = useTestLedger(ledgerKeyFromSeed(Buffer.alloc(32, 61)));
const REFUSED = /tallyproof: .*(only moves forward|closed|cannot be changed|cannot move|not allowed)|permission denied/;

/** An election with two committed ballots, sealed through 1, one window: every head number above 0. */
async function electionWithHead(id: string): Promise<void> {
  const vs = await ledger.newElection(id, 2);
  await ledger.castAll(id, vs);
  await ledger.db.app`UPDATE election_heads SET sealed_through = 1, next_window_index = 1 WHERE election_id = ${id}`;
}

async function head(sql: Sql, id: string) {
  const [h] = await sql`SELECT next_seq, sealed_through, next_window_index, closed FROM election_heads
                        WHERE election_id = ${id}`;
  return {
    nextSeq: Number(h!.next_seq),
    sealedThrough: Number(h!.sealed_through),
    nextWindowIndex: Number(h!.next_window_index),
    closed: h!.closed as boolean,
  };
}

describe('election_heads, as the application role', () => {
  it('next_seq only grows', async () => {
    await electionWithHead('h-next-seq');
    const app = ledger.db.app;
    await expect(app`UPDATE election_heads SET next_seq = 1 WHERE election_id = 'h-next-seq'`).rejects.toThrow(REFUSED);
    await app`UPDATE election_heads SET next_seq = 3 WHERE election_id = 'h-next-seq'`;
    expect((await head(app, 'h-next-seq')).nextSeq).toBe(3);
  });

  it('sealed_through only grows', async () => {
    await electionWithHead('h-sealed');
    const app = ledger.db.app;
    await expect(app`UPDATE election_heads SET sealed_through = 0 WHERE election_id = 'h-sealed'`).rejects.toThrow(
      REFUSED,
    );
    await app`UPDATE election_heads SET sealed_through = 2 WHERE election_id = 'h-sealed'`;
    expect((await head(app, 'h-sealed')).sealedThrough).toBe(2);
  });

  it('next_window_index only grows', async () => {
    await electionWithHead('h-window');
    const app = ledger.db.app;
    await expect(app`UPDATE election_heads SET next_window_index = 0 WHERE election_id = 'h-window'`).rejects.toThrow(
      REFUSED,
    );
    await app`UPDATE election_heads SET next_window_index = 2 WHERE election_id = 'h-window'`;
    expect((await head(app, 'h-window')).nextWindowIndex).toBe(2);
  });

  it('closed only goes from false to true, and a closed head takes no more ballots', async () => {
    await electionWithHead('h-closed');
    const app = ledger.db.app;
    await app`UPDATE election_heads SET closed = true WHERE election_id = 'h-closed'`;
    await expect(app`UPDATE election_heads SET closed = false WHERE election_id = 'h-closed'`).rejects.toThrow(REFUSED);
    await expect(app`UPDATE election_heads SET next_seq = 5 WHERE election_id = 'h-closed'`).rejects.toThrow(REFUSED);
    expect(await head(app, 'h-closed')).toMatchObject({ closed: true, nextSeq: 2 });
  });

  it('a head cannot be moved to another election, deleted or truncated', async () => {
    await electionWithHead('h-move');
    await ledger.newElection('h-move-other', 1);
    const app = ledger.db.app;
    await expect(
      app`UPDATE election_heads SET election_id = 'h-move-other' WHERE election_id = 'h-move'`,
    ).rejects.toThrow(/tallyproof|duplicate key|permission denied/);
    await expect(app`DELETE FROM election_heads WHERE election_id = 'h-move'`).rejects.toThrow(/permission denied/);
    await expect(app`TRUNCATE election_heads CASCADE`).rejects.toThrow(/permission denied/);
    // Not even the owner: the triggers bind every role.
    await expect(ledger.db.admin`DELETE FROM election_heads WHERE election_id = 'h-move'`).rejects.toThrow(
      /append-only/,
    );
  });
});

describe('elections, as the application role: write-once columns', () => {
  const cases: [column: string, first: string, second: string][] = [
    ['registration_tx', `'0x${'a'.repeat(64)}'`, `'0x${'b'.repeat(64)}'`],
    ['registration_block', '10', '11'],
    ['close_requested_at', `'2026-01-01T00:00:00Z'`, `'2026-01-02T00:00:00Z'`],
    ['result_hash', `'\\x${'11'.repeat(32)}'`, `'\\x${'22'.repeat(32)}'`],
    ['total_ballots', '2', '3'],
    ['close_tx', `'0x${'c'.repeat(64)}'`, `'0x${'d'.repeat(64)}'`],
    ['close_block', '20', '21'],
  ];
  for (const [column, first, second] of cases) {
    it(`${column}: set once, then neither changed nor cleared`, async () => {
      const id = `w-${column.replace(/_/g, '-')}`;
      await ledger.newElection(id, 1);
      const app = ledger.db.app;
      await app.unsafe(`UPDATE elections SET ${column} = ${first} WHERE election_id = '${id}'`);
      // Setting the same value again is not a change (the worker's idempotent retries do this).
      await app.unsafe(`UPDATE elections SET ${column} = ${first} WHERE election_id = '${id}'`);
      await expect(
        app.unsafe(`UPDATE elections SET ${column} = ${second} WHERE election_id = '${id}'`),
      ).rejects.toThrow(REFUSED);
      await expect(app.unsafe(`UPDATE elections SET ${column} = NULL WHERE election_id = '${id}'`)).rejects.toThrow(
        REFUSED,
      );
    });
  }

  it('the frozen roll (root and size), the manifest, its schedule and the creation time never change', async () => {
    await ledger.newElection('w-frozen', 2);
    const app = ledger.db.app;
    for (const set of [
      `roll_root = '\\x${'33'.repeat(32)}'`,
      'roll_size = 5',
      `manifest = '{}'`,
      `closes_at = now()`,
      'window_seconds = 5',
      'created_at = now()',
    ]) {
      await expect(app.unsafe(`UPDATE elections SET ${set} WHERE election_id = 'w-frozen'`)).rejects.toThrow(REFUSED);
    }
  });

  it('the roll-upload log is insert-only', async () => {
    await ledger.newElection('w-uploads', 1, { pending: true });
    const app = ledger.db.app;
    await expect(app`UPDATE roll_uploads SET added = 0 WHERE election_id = 'w-uploads'`).rejects.toThrow(
      /permission denied/,
    );
    await expect(app`DELETE FROM roll_uploads WHERE election_id = 'w-uploads'`).rejects.toThrow(/permission denied/);
    await expect(ledger.db.admin`DELETE FROM roll_uploads WHERE election_id = 'w-uploads'`).rejects.toThrow(
      /append-only/,
    );
  });
});
