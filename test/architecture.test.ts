// Structure rules of the repository, as tests that fail when broken (issue #13):
//  1. Only ledger/ speaks SQL to ledger tables: the processes (api/, anchor-worker/, jobs/, scripts/) call
//     the ledger's named functions (ledger/src/index.ts) and hold no SQL of their own.
//  2. The API depends on the job contract (jobs/), never on anchor-worker/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, filesUnder, importsOf, isUnder, reachable } from './support/imports.js';

/** Every table the ledger's migrations create. */
function ledgerTables(): string[] {
  const dir = join(REPO, 'ledger', 'migrations');
  const sql = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((m) => m[1]!).concat('schema_migrations');
}

const SQL_VERB = '(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|TRUNCATE|LOCK|COPY|BEGIN|COMMIT)';

/** Comments out, string contents kept: prose about SQL is not SQL. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Why `source` holds SQL on ledger tables (one line per finding), or nothing. */
function sqlFindings(source: string, tables: readonly string[]): string[] {
  const code = withoutComments(source);
  const findings: string[] = [];
  // A tagged template that starts with an SQL verb: sql`SELECT …`, tx`UPDATE …`, conn`…`.
  for (const m of code.matchAll(new RegExp(`[\\w$)\\]]\`\\s*(${SQL_VERB}\\b[^\`]{0,60})`, 'g')))
    findings.push(`tagged SQL: ${m[1]!.trim()}`);
  // postgres.js's unsafe() and node-postgres's query() with SQL text.
  for (const m of code.matchAll(
    new RegExp(`\\.(?:unsafe|query)\\s*\\(\\s*['"\`]\\s*(${SQL_VERB}\\b[^'"\`]{0,60})`, 'g'),
  )) {
    findings.push(`SQL call: ${m[1]!.trim()}`);
  }
  // Any SQL text naming a ledger table, whatever runs it.
  const table = `(?:${tables.join('|')})`;
  const onTable = new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+(?:ONLY\\s+)?(?:public\\.)?${table}\\b`, 'g');
  for (const m of code.matchAll(onTable)) findings.push(`SQL on a ledger table: ${m[0]}`);
  return [...new Set(findings)];
}

/** The processes' own code: what must call the ledger instead of speaking SQL. */
const PROCESS_DIRS = ['api/src', 'anchor-worker/src', 'jobs/src', 'scripts'];

describe('architecture', () => {
  const tables = ledgerTables();

  it('knows the ledger tables', () => {
    expect(tables).toEqual(
      expect.arrayContaining(['elections', 'election_heads', 'ballots', 'credentials', 'windows']),
    );
  });

  it('recognises SQL on a ledger table, and not prose about it', () => {
    // Assembled from pieces so that this file's own text holds no SQL.
    const t = '`';
    const violations = [
      `await sql${t}SELECT next_seq FROM election_heads WHERE election_id = \${id}${t};`,
      `const rows = await tx${t}\n  UPDATE windows SET anchor_tx = \${h}${t};`,
      `await sql.unsafe('DELETE FROM ballots')`,
      `const q = "INSERT INTO rejected_attempts (reason) VALUES ($1)";`,
    ];
    for (const v of violations) expect(sqlFindings(v, tables), v).not.toEqual([]);
    const clean = [
      '// SELECT … FROM election_heads FOR UPDATE serialises all writers',
      '/* the UPDATE of windows happens in ledger/ */ const x = 1;',
      "const label = 'ballots from the election';",
      'await closeElection(sql, electionId);',
    ];
    for (const c of clean) expect(sqlFindings(c, tables), c).toEqual([]);
  });

  it('only ledger/ speaks SQL to ledger tables', () => {
    const files = PROCESS_DIRS.flatMap((d) => filesUnder(join(REPO, d))).filter((f) => !/\/test\//.test(f));
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) =>
      sqlFindings(readFileSync(f, 'utf8'), tables).map((s) => `${relative(REPO, f)}: ${s}`),
    );
    expect(found).toEqual([]);
  });

  it('recognises an import of anchor-worker/', () => {
    const roots = [join(REPO, 'test', 'support', 'stack.ts')];
    const reached = [...reachable(roots).keys()];
    expect(reached.some((f) => isUnder(f, join(REPO, 'anchor-worker')))).toBe(true);
  });

  it('api/ does not import anchor-worker/, and the API process does not load it through anything else', () => {
    const worker = join(REPO, 'anchor-worker');
    const api = filesUnder(join(REPO, 'api'));
    const direct = api.flatMap((f) =>
      importsOf(f)
        .filter((t) => isUnder(t, worker))
        .map((t) => `${relative(REPO, f)} -> ${relative(REPO, t)}`),
    );
    expect(direct).toEqual([]);
    const apiProcess = api.filter((f) => isUnder(f, join(REPO, 'api', 'src')));
    const loaded = [...reachable(apiProcess)]
      .filter(([f]) => isUnder(f, worker))
      .map(([, chain]) => chain.join(' -> '));
    expect(loaded).toEqual([]);
  });
});
