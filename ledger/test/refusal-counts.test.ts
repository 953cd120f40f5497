// Refused submissions are counted per key (migration 0007), never stored one row per request: the rows
// grow with the roll and the client addresses, not with what a client sends. The counts are monotonic for
// the app role; only the owner's retention command (`tallyproof prune-audit`) deletes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { serverUrl } from '../../test/support/db.js';
import { ballotFor, selectionsFor, voter } from '../../test/support/fixtures.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { pruneAudit } from '../src/index.js';
import { APP_ROLE, migrate, migrationFiles } from '../src/db/migrate.js';
import { useTestLedger } from './helpers/test-ledger.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../scripts/bin/tallyproof.js', import.meta.url));
const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 21));
const ledger = useTestLedger(ledgerKey, { threads: 2 });
const CLIENT = '203.0.113.7';

async function rows(electionId: string | null) {
  return ledger.db.admin`
    SELECT election_id, encode(credential, 'hex') AS credential, client, reason, count::int AS count,
           first_at, last_at, last_detail
    FROM rejected_attempt_counts WHERE election_id IS NOT DISTINCT FROM ${electionId} ORDER BY reason, client`;
}

describe('refusal counts', () => {
  it('count per (election, credential or client, reason), whatever the number of requests', async () => {
    const vs = await ledger.newElection('agg', 3);
    const first = await ledger.ingestor.submit('agg', ballotFor(vs[0]!, 'agg', selectionsFor(0)), CLIENT);
    expect(first.kind).toBe('accepted');
    const before = await ledger.db.admin`SELECT count(*)::int AS n FROM rejected_attempt_counts`;
    // Sent at once: refusals of one key land in the same batches, summed before the upsert.
    const outcomes = await Promise.all([
      // 60 election ids that name nothing, each different: counted under the client, not the id
      ...Array.from({ length: 60 }, (_, i) =>
        ledger.ingestor.submit(`nope-${i}`, ballotFor(vs[1]!, `nope-${i}`), CLIENT),
      ),
      // 40 keys not on the roll: counted under the client, not the key
      ...Array.from({ length: 40 }, (_, i) => ledger.ingestor.submit('agg', ballotFor(voter(`x${i}`), 'agg'), CLIENT)),
      // 25 malformed bodies
      ...Array.from({ length: 25 }, (_, i) => ledger.ingestor.submit('agg', { junk: i }, CLIENT)),
      // 10 bad signatures from another address
      ...Array.from({ length: 10 }, () => {
        const b = ballotFor(vs[1]!, 'agg');
        return ledger.ingestor.submit('agg', { ...b, signature: b.signature.replace(/^../, '00') }, '198.51.100.1');
      }),
    ]);
    expect(outcomes.every((o) => o.kind === 'rejected')).toBe(true);
    // duplicates one after another: the running count the 409 reports
    for (let n = 1; n <= 4; n++) {
      const d = await ledger.ingestor.submit('agg', ballotFor(vs[0]!, 'agg', selectionsFor(n)), CLIENT);
      expect(d).toMatchObject({ kind: 'duplicate', attemptCount: n });
    }
    const after = await ledger.db.admin`SELECT count(*)::int AS n FROM rejected_attempt_counts`;
    expect(after[0]!.n - before[0]!.n).toBe(5);
    expect((await rows(null)).map((r) => [r.client, r.reason, r.count])).toContainEqual([
      CLIENT,
      'unknown-election',
      60,
    ]);
    const agg = await rows('agg');
    expect(agg.map((r) => [r.credential, r.client, r.reason, r.count])).toEqual([
      [null, '198.51.100.1', 'bad-signature', 10],
      [null, CLIENT, 'credential-not-on-roll', 40],
      [vs[0]!.credential, null, 'duplicate', 4],
      [null, CLIENT, 'invalid-body', 25],
    ]);
    for (const r of agg) expect(r.last_at.getTime()).toBeGreaterThanOrEqual(r.first_at.getTime());
    expect(agg.find((r) => r.reason === 'duplicate')!.last_detail).toMatch(/already cast seq 0/);
  });

  it('are monotonic for the app role: no decrease, no rewrite, no delete', async () => {
    const app = ledger.db.app;
    await ledger.ingestor.submit('agg', { junk: true }, '192.0.2.9');
    const where = app`client = '192.0.2.9' AND reason = 'invalid-body'`;
    const denied = /can only grow|permission denied/;
    await expect(app`UPDATE rejected_attempt_counts SET count = count - 1 WHERE ${where}`).rejects.toThrow(denied);
    await expect(
      app`UPDATE rejected_attempt_counts SET first_at = first_at - interval '1 day' WHERE ${where}`,
    ).rejects.toThrow(denied);
    await expect(
      app`UPDATE rejected_attempt_counts SET last_at = last_at - interval '1 day' WHERE ${where}`,
    ).rejects.toThrow(denied);
    await expect(app`UPDATE rejected_attempt_counts SET client = '192.0.2.10' WHERE ${where}`).rejects.toThrow(denied);
    await expect(app`UPDATE rejected_attempt_counts SET reason = 'duplicate' WHERE ${where}`).rejects.toThrow(denied);
    await expect(app`UPDATE rejected_attempt_counts SET election_id = NULL WHERE ${where}`).rejects.toThrow(denied);
    await expect(app`DELETE FROM rejected_attempt_counts WHERE ${where}`).rejects.toThrow(/permission denied/);
    await expect(app`TRUNCATE rejected_attempt_counts`).rejects.toThrow(/permission denied|not allowed/);
    // the old per-request table is read-only for the app role now
    await expect(app`INSERT INTO rejected_attempts (reason) VALUES ('invalid-body')`).rejects.toThrow(
      /permission denied/,
    );
    await expect(app`DELETE FROM rejected_attempts`).rejects.toThrow(/permission denied/);
    // growing is what the ingest path does
    await app`UPDATE rejected_attempt_counts SET count = count + 1, last_at = clock_timestamp() WHERE ${where}`;
    const [r] = await app`SELECT count::int AS n FROM rejected_attempt_counts WHERE ${where}`;
    expect(r!.n).toBe(2);
  });

  it('a key not on the roll can never be a key of the counts (foreign key to the roll)', async () => {
    await expect(
      ledger.db.app`INSERT INTO rejected_attempt_counts (election_id, credential, reason, count)
                    VALUES ('agg', ${randomBytes(32)}, 'duplicate', 1)`,
    ).rejects.toThrow(/foreign key/);
    await expect(
      ledger.db.app`INSERT INTO rejected_attempt_counts (election_id, reason, count) VALUES ('nope', 'x', 1)`,
    ).rejects.toThrow(/foreign key/);
  });
});

describe('retention (tallyproof prune-audit)', () => {
  it('the owner prunes old counts and old per-request rows; the app role cannot', async () => {
    const open = await ledger.newElection('keep-open', 1);
    const closed = await ledger.newElection('was-closed', 1);
    await ledger.db.admin`UPDATE election_heads SET closed = true WHERE election_id = 'was-closed'`;
    const old = new Date(Date.now() - 200 * 86_400_000);
    const insert = (e: string | null, cred: string | null, client: string | null, reason: string, at: Date) =>
      ledger.db
        .admin`INSERT INTO rejected_attempt_counts (election_id, credential, client, reason, count, first_at, last_at)
        VALUES (${e}, ${cred === null ? null : Buffer.from(cred, 'hex')}, ${client}, ${reason}, 3, ${at}, ${at})`;
    await insert(null, null, '10.9.9.1', 'unknown-election', old);
    await insert('keep-open', open[0]!.credential, null, 'duplicate', old);
    await insert('was-closed', closed[0]!.credential, null, 'duplicate', old);
    await insert(null, null, '10.9.9.2', 'unknown-election', new Date());
    await ledger.db
      .admin`INSERT INTO rejected_attempts (election_id, reason, created_at) VALUES ('x', 'invalid-body', ${old})`;
    await ledger.db.admin`INSERT INTO rejected_attempts (election_id, reason) VALUES ('x', 'invalid-body')`;

    await expect(pruneAudit(ledger.db.app, new Date())).rejects.toThrow(/permission denied/);

    const { stdout } = await run(process.execPath, [
      CLI,
      'prune-audit',
      '--older-than',
      '90d',
      '--database-owner-url',
      ledger.db.url,
    ]);
    expect(stdout).toMatch(/2 refusal counts, 1 per-request rows/);
    const left = await ledger.db.admin`SELECT election_id, client FROM rejected_attempt_counts
                                       WHERE client LIKE '10.9.9.%' OR election_id IN ('keep-open', 'was-closed')`;
    expect(left.map((r) => r.client ?? r.election_id).sort()).toEqual(['10.9.9.2', 'keep-open']);
    // the credential of a closed election is pruned, not the one of an open election
    const [legacy] = await ledger.db.admin`SELECT count(*)::int AS n FROM rejected_attempts WHERE election_id = 'x'`;
    expect(legacy!.n).toBe(1);

    // the app role's URL is refused with a message that says why
    await expect(
      run(process.execPath, [CLI, 'prune-audit', '--older-than', '1d', '--database-owner-url', ledger.db.appUrl]),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/must connect as the database owner/) });
    await expect(run(process.execPath, [CLI, 'prune-audit', '--older-than', 'soon'])).rejects.toMatchObject({
      code: 2,
    });
  }, 60_000);
});

describe('migration 0007', () => {
  it('aggregates the old per-request rows, keeping each credential’s running duplicate count', async () => {
    const root = postgres(serverUrl(), { max: 1, onnotice: () => {} });
    const name = `tp_test_${randomBytes(6).toString('hex')}`;
    await root.unsafe(`CREATE DATABASE ${name}`);
    const u = new URL(serverUrl());
    u.pathname = `/${name}`;
    const sql = postgres(u.toString(), { max: 1, onnotice: () => {} });
    try {
      const [role] = await sql`SELECT 1 AS ok FROM pg_roles WHERE rolname = ${APP_ROLE}`;
      if (!role) await sql.unsafe(`CREATE ROLE ${APP_ROLE} LOGIN`).catch(() => undefined);
      await sql`CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
      for (const m of migrationFiles().filter((f) => f.version < '0007')) {
        await sql.begin(async (tx) => {
          await tx.unsafe(m.sql);
          await tx`INSERT INTO schema_migrations (version) VALUES (${m.version})`;
        });
      }
      const cred = voter('legacy').credential;
      await sql`INSERT INTO elections (election_id, manifest, manifest_hash, opens_at, closes_at, window_seconds)
                VALUES ('legacy', '{}', ${Buffer.alloc(32)}, now(), now() + interval '1 day', 60)`;
      await sql`INSERT INTO credentials (election_id, credential) VALUES ('legacy', ${Buffer.from(cred, 'hex')})`;
      for (const n of [1, 2, 3])
        await sql`INSERT INTO rejected_attempts (election_id, credential, reason, detail, attempt_count)
                  VALUES ('legacy', ${Buffer.from(cred, 'hex')}, 'duplicate', ${`attempt ${n}`}, ${n})`;
      for (const id of ['a', 'b', 'c'])
        await sql`INSERT INTO rejected_attempts (election_id, reason, detail) VALUES (${id}, 'unknown-election', ${id})`;
      await sql`INSERT INTO rejected_attempts (election_id, reason, detail) VALUES ('legacy', 'invalid-body', 'x')`;

      expect(await migrate(sql, { appPassword: null })).toContain('0007_aggregated_refusals');
      const got =
        await sql`SELECT election_id, encode(credential, 'hex') AS c, client, reason, count::int AS n, last_detail
                            FROM rejected_attempt_counts ORDER BY reason`;
      expect(got.map((r) => [r.election_id, r.c, r.client, r.reason, r.n, r.last_detail])).toEqual([
        ['legacy', cred, null, 'duplicate', 3, 'attempt 3'],
        ['legacy', null, null, 'invalid-body', 1, 'x'],
        [null, null, null, 'unknown-election', 3, 'c'],
      ]);
      // the old rows stay, as history
      const [old] = await sql`SELECT count(*)::int AS n FROM rejected_attempts`;
      expect(old!.n).toBe(7);
    } finally {
      await sql.end({ timeout: 5 });
      await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await root.end({ timeout: 5 });
    }
  });
});
