// `tallyproof`: operator and voter tooling — credentials, elections, votes. Talks to a Tallyproof API
// over HTTP exactly as any client would (docs/protocol.md); only `prune-audit`, the owner's retention
// policy, connects to the database (as its owner).
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import {
  signBallot,
  ballotHash,
  manifestHash,
  parseSubmission,
  verifyReceipt,
  type Manifest,
  type Receipt,
  type Submission,
} from '../../ledger/src/protocol/protocol.js';
import type { EncryptedSubmission } from '../../ledger/src/protocol/v2/ballot.js';
import { CliError, selectionsFromChoices } from './selections.js';
import { registerTrusteeCommands } from './trustee.js';
import { closeSummary } from './results-summary.js';
import { manifestTemplate, parseDuration } from './manifest-template.js';
import { deriveCredentials, generateCredentials, readCredential, readRoll, type Progress } from './credentials.js';

const DEFAULT_API = process.env.TALLYPROOF_API ?? 'http://127.0.0.1:8080';

function progress(label: string): Progress {
  if (!process.stderr.isTTY) {
    let total = 0;
    return {
      start: (t) => {
        total = t;
        process.stderr.write(`${label}: ${t}\n`);
      },
      increment: () => {},
      stop: () => process.stderr.write(`${label}: done (${total})\n`),
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  return { start: (t) => bar.start(t, 0), increment: (n = 1) => bar.increment(n), stop: () => bar.stop() };
}

async function api(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), init);
  } catch (err) {
    throw new CliError(`cannot reach the API at ${base}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

function errorText(body: any): string {
  return body?.error ? `${body.error.code}: ${body.error.message}` : JSON.stringify(body);
}

/** The data directory `npm start` writes (its admin token, demo credentials): TALLYPROOF_DATA_DIR or .tallyproof. */
function dataDir(): string {
  return resolve(process.env.TALLYPROOF_DATA_DIR || '.tallyproof');
}

const TOKEN_HELP =
  'admin bearer token; without it and ADMIN_TOKEN, the one npm start keeps in $TALLYPROOF_DATA_DIR/admin-token ' +
  '(default .tallyproof/admin-token)';

/** --token, else ADMIN_TOKEN (commander fills both in), else the token file `npm start` writes. */
function adminToken(given: string | undefined): string {
  if (given) return given;
  const file = resolve(dataDir(), 'admin-token');
  const fromFile = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (fromFile) return fromFile;
  throw new CliError(`an admin token is needed: --token, ADMIN_TOKEN, or the file npm start writes (${file}: none)`);
}

/** A word as a POSIX shell reads it, so that a printed command works when pasted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity }))
    if (line.trim() !== '') n++;
  return n;
}

const program = new Command()
  .name('tallyproof')
  .description(
    'Tallyproof tooling: issue credentials, create elections, cast votes.\n' +
      'The API is http://127.0.0.1:8080 unless --api or TALLYPROOF_API says otherwise.\n' +
      'Admin commands take --token, else ADMIN_TOKEN, else the token npm start keeps in ' +
      '$TALLYPROOF_DATA_DIR/admin-token (default .tallyproof/admin-token, relative to the current directory).',
  )
  .showHelpAfterError();

const credentials = program.command('credentials').description("create voters' credentials (Ed25519 key pairs)");

credentials
  .command('generate')
  .description('generate N random credentials: the public roll and the private credentials file')
  .requiredOption('--count <n>', 'how many credentials', (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError('--count must be a positive integer');
    return Number(v);
  })
  .option('--roll <file>', 'public roll to write (one hex key per line)', 'roll.txt')
  .option(
    '--credentials <file>',
    'private credentials to write (JSON lines {credential, seed}); give each voter their line',
    'credentials.jsonl',
  )
  .action(async (o: { count: number; roll: string; credentials: string }) => {
    for (const f of [o.roll, o.credentials])
      if (existsSync(f)) throw new CliError(`${f} exists; refusing to overwrite credentials`);
    await generateCredentials({
      count: o.count,
      rollFile: o.roll,
      credentialsFile: o.credentials,
      progress: progress('generating'),
    });
    console.log(`wrote ${o.count} credentials: roll ${o.roll}, private credentials ${o.credentials}`);
  });

credentials
  .command('derive')
  .description('derive credentials from voter secrets (one per line, e.g. "NAS|code"): scrypt N=2^15 per voter')
  .requiredOption('--secrets <file>', 'voter secrets, one per line')
  .requiredOption('--election <id>', 'the election id (part of the scrypt salt)')
  .option('--roll <file>', 'public roll to write', 'roll.txt')
  .option('--credentials <file>', 'private credentials to write', 'credentials.jsonl')
  .action(async (o: { secrets: string; election: string; roll: string; credentials: string }) => {
    for (const f of [o.roll, o.credentials])
      if (existsSync(f)) throw new CliError(`${f} exists; refusing to overwrite credentials`);
    const total = await countLines(o.secrets);
    const n = await deriveCredentials({
      secretsFile: o.secrets,
      electionId: o.election,
      rollFile: o.roll,
      credentialsFile: o.credentials,
      progress: progress('deriving'),
      total,
    });
    console.log(`derived ${n} credentials for ${o.election}: roll ${o.roll}, private credentials ${o.credentials}`);
  });

const election = program.command('election').description('create, inspect and close elections (admin)');

election
  .command('init')
  .description(
    'write an example manifest to edit (one yes/no contest, opens now, closes in 2 h); ' +
      '`election create --manifest FILE` accepts it as written (lifecycle: docs/operations.md)',
  )
  .option('--out <file>', 'write it here (refused if the file exists); default: print it')
  .option('--election <id>', 'election id: lowercase letters, digits, hyphens', 'my-election')
  .option('--title <text>', 'title shown to voters', 'My election')
  .option('--opens-in <duration>', 'voting opens after this (0, 30m, 2h, 7d)', '0')
  .option('--open-for <duration>', 'voting closes this long after it opens', '2h')
  .option('--window-seconds <n>', 'seconds between anchored windows', '60')
  .action(
    (o: { out?: string; election: string; title: string; opensIn: string; openFor: string; windowSeconds: string }) => {
      const manifest = manifestTemplate({
        electionId: o.election,
        title: o.title,
        opensInMs: parseDuration('--opens-in', o.opensIn),
        openForMs: parseDuration('--open-for', o.openFor),
        windowSeconds: Number(o.windowSeconds),
      });
      const text = JSON.stringify(manifest, null, 2) + '\n';
      if (o.out === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(o.out, text, { flag: 'wx' });
      } catch (err) {
        throw new CliError(`--out ${o.out}: ${(err as Error).message}`);
      }
      process.stderr.write(
        `manifest of ${manifest.electionId} written to ${o.out} (opens ${manifest.opensAt}, closes ${manifest.closesAt}); ` +
          `edit it, then:\n  npx tallyproof election create --manifest ${shellWord(o.out)} --roll ROLL_FILE\n`,
      );
    },
  );

election
  .command('create')
  .description('create an election from a manifest and a roll (POST /api/v1/elections)')
  .requiredOption('--manifest <file>', 'manifest JSON (docs/protocol.md §3)')
  .requiredOption('--roll <file>', 'roll: JSON array or one hex key per line')
  .option('--api <url>', 'API base URL', DEFAULT_API)
  .addOption(new Option('--token <token>', TOKEN_HELP).env('ADMIN_TOKEN'))
  .action(async (o: { manifest: string; roll: string; api: string; token?: string }) => {
    const token = adminToken(o.token);
    const manifest = JSON.parse(readFileSync(o.manifest, 'utf8'));
    const roll: string[] = [];
    for await (const k of readRoll(o.roll)) roll.push(k);
    const r = await api(o.api, '/api/v1/elections', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ manifest, roll }),
    });
    // 200 is the answer to a repeat of the same manifest and roll (docs/protocol.md): nothing to do, success.
    if (r.status !== 201 && r.status !== 200)
      throw new CliError(`election not created (${r.status}) ${errorText(r.body)}`);
    process.stderr.write(
      r.status === 201
        ? `election ${r.body.electionId} created\n`
        : `election ${r.body.electionId} already exists, identical (same manifest and roll): nothing changed\n`,
    );
    console.log(JSON.stringify(r.body, null, 2));
  });

election
  .command('show')
  .description('print an election (manifest, hashes, status, chain registration)')
  .requiredOption('--election <id>', 'election id')
  .option('--api <url>', 'API base URL', DEFAULT_API)
  .action(async (o: { election: string; api: string }) => {
    const r = await api(o.api, `/api/v1/elections/${encodeURIComponent(o.election)}`);
    if (r.status !== 200) throw new CliError(`${r.status} ${errorText(r.body)}`);
    console.log(JSON.stringify(r.body, null, 2));
  });

election
  .command('close')
  .description('close an election: seal and anchor the last window, publish the result hash on chain')
  .requiredOption('--election <id>', 'election id')
  .option('--api <url>', 'API base URL', DEFAULT_API)
  .addOption(new Option('--token <token>', TOKEN_HELP).env('ADMIN_TOKEN'))
  .action(async (o: { election: string; api: string; token?: string }) => {
    const token = adminToken(o.token);
    const r = await api(o.api, `/api/v1/elections/${encodeURIComponent(o.election)}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (r.status >= 300) throw new CliError(`${r.status} ${errorText(r.body)}`);
    // The result for people on stderr (blank ballots and percentage bases included); the JSON on stdout.
    process.stderr.write(closeSummary(r.body));
    console.log(JSON.stringify(r.body, null, 2));
  });

/** A ballot that reached the ledger after the election closed: not counted; its own exit code (3). */
class LateBallot extends CliError {}

/**
 * The election's manifest (and the server's chainRpcUrl when it answers): from --manifest FILE (the manifest,
 * or `GET /api/v1/elections/{id}` as `election show` prints it), else fetched from the API.
 */
async function loadElection(
  electionId: string,
  base: string,
  file: string | undefined,
): Promise<{ manifest: Manifest; chainRpcUrl: string | null; view: Record<string, any> | null }> {
  if (file === undefined) {
    const e = await api(base, `/api/v1/elections/${encodeURIComponent(electionId)}`);
    if (e.status !== 200) throw new CliError(`cannot load election ${electionId}: ${e.status} ${errorText(e.body)}`);
    return { manifest: e.body.manifest as Manifest, chainRpcUrl: e.body.chainRpcUrl ?? null, view: e.body };
  }
  let body: any;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--manifest ${file}: ${(err as Error).message}`);
  }
  const manifest = (body?.manifest ?? body) as Manifest;
  if (manifest?.electionId !== electionId)
    throw new CliError(
      `--manifest ${file} is the manifest of ${manifest?.electionId ?? 'no election'}, not ${electionId}`,
    );
  // The GET body names its manifest's hash: a manifest edited by hand is not signed for.
  if (typeof body?.manifestHash === 'string' && body.manifestHash !== manifestHash(manifest).toString('hex'))
    throw new CliError(`--manifest ${file}: the manifest does not hash to the manifestHash written next to it`);
  return {
    manifest,
    chainRpcUrl: typeof body?.chainRpcUrl === 'string' ? body.chainRpcUrl : null,
    // The election as GET /api/v1/elections/{id} serves it (an encrypted election's key is in it), else null.
    view: body?.manifest ? body : null,
  };
}

/** ballotHash: the same formula for both versions, H(JCS({ballot, signature})) (docs/protocol.md 12.4). */
function hashOfSubmission(submission: Submission | EncryptedSubmission): string {
  return ballotHash(submission as Submission).toString('hex');
}

/**
 * POST a signed ballot (retried on 503 and network errors: a byte-identical resubmission returns the same
 * receipt), check the receipt, save it, print how to check it. A refusal is a CliError (exit 2); a ballot
 * that came after the close is a LateBallot (exit 3) unless the ledger has it from an earlier attempt.
 */
async function castSigned(
  base: string,
  submission: Submission | EncryptedSubmission,
  manifest: Manifest,
  chainRpcUrl: string | null,
  out: string | undefined,
): Promise<void> {
  const electionId = submission.ballot.electionId;
  const hash = hashOfSubmission(submission);
  let r: { status: number; body: any } | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    r = await api(base, `/api/v1/elections/${encodeURIComponent(electionId)}/ballots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submission),
    }).catch((err) => {
      if (attempt === 4) throw err;
      return null;
    });
    if (r && r.status !== 503) break;
    await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
  }
  if (!r) throw new CliError('the API did not answer');
  let again = r.status === 200;
  let receipt: Receipt | null = r.status === 201 || r.status === 200 ? (r.body.receipt as Receipt) : null;
  if (r.status === 409 && r.body?.receipt?.ballotHash === hash) {
    receipt = r.body.receipt as Receipt;
    again = true;
  } else if (r.status === 409) {
    throw new CliError(
      `this credential has already voted (attempt ${r.body.attemptCount}); the ballot on record is seq ${r.body.receipt?.seq}, receipt hash ${r.body.receipt?.ballotHash}`,
    );
  } else if (r.status === 403 && r.body?.error?.code === 'election-closed') {
    // An earlier attempt may have got in before the close, its answer lost: the receipt lookup says.
    const b = await api(base, `/api/v1/receipts/${hash}`);
    if (b.status === 200 && b.body?.receipt?.ballotHash === hash) {
      receipt = b.body.receipt as Receipt;
      again = true;
    } else {
      const at = /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(String(r.body.error.message))?.[0] ?? manifest.closesAt;
      throw new LateBallot(
        `the election closed at ${at} before this ballot reached the ballot box; it was not counted (ballot ${hash})`,
      );
    }
  }
  if (receipt === null) throw new CliError(`vote refused (${r.status}) ${errorText(r.body)}`);
  if (receipt.ballotHash !== hash)
    throw new CliError(`the receipt names ballot ${receipt.ballotHash}, not the one sent (${hash})`);
  if (!verifyReceipt(Buffer.from(manifest.ledgerKey, 'hex'), receipt))
    throw new CliError("the receipt signature does not verify against the manifest's ledger key");
  const file = out ?? `receipt-${hash.slice(0, 12)}.json`;
  writeFileSync(file, JSON.stringify(receipt, null, 2) + '\n');
  console.log(
    `${again ? 'vote already recorded' : 'vote cast'}: seq ${receipt.seq}, receipt hash ${receipt.ballotHash}`,
  );
  // The exact file just written, and the chain RPC URL the server publishes (chainRpcUrl), so that the
  // line works when pasted; the verifier has no default for --rpc.
  const rpc = chainRpcUrl !== null ? shellWord(chainRpcUrl) : '<chain RPC URL>';
  console.log(
    `receipt saved to ${file}; check it once its window is anchored (windows close every ` +
      `${manifest.windowSeconds} s) with:`,
  );
  console.log(`  npx tallyproof-verify receipt ${shellWord(file)} --api ${shellWord(base)} --rpc ${rpc}`);
  if (chainRpcUrl === null)
    console.log('  (this server publishes no chain RPC URL: give one of the chain its election is anchored on)');
}

program
  .command('vote')
  .description(
    'sign a ballot with your credential, cast it, and save the receipt; with --offline, sign only and write the ' +
      'ballot to a file for `tallyproof submit` (no network needed with --manifest). In an encrypted election ' +
      '(version 2) every choice is encrypted to the election key with its proofs; --audit-out opens one instead',
  )
  .requiredOption('--election <id>', 'election id')
  .requiredOption(
    '--credential <file>',
    'credentials file (JSON lines {credential, seed}); the first line is used unless --voter is given',
  )
  .option('--voter <credential>', 'which credential of the file to use (hex public key)')
  .option(
    '--choose <contest=choice,…>',
    'a choice per contest; repeat for each contest (contests left out are blank where allowed)',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option('--api <url>', 'API base URL', DEFAULT_API)
  .option(
    '--manifest <file>',
    'the election as `tallyproof election show` prints it (or its bare manifest), instead of asking the API',
  )
  .option('--offline', 'sign only: write the signed ballot to --out and send nothing (send it with submit)')
  .option(
    '--out <file>',
    'where to save the receipt (default receipt-<ballotHash prefix>.json); with --offline, the signed ballot ' +
      '(default ballot-<ballotHash prefix>.json)',
  )
  .option(
    '--audit-out <file>',
    'encrypted elections: encrypt the ballot, then open it into this file instead of casting it (Benaloh ' +
      'challenge; an audited ballot is never cast; check it with `tallyproof-verify audited-ballot`)',
  )
  .option(
    '--transcript <file>',
    "encrypted elections, offline: the trustees' messages (`tallyproof trustee fetch --transcript`), to check the " +
      'election key against them (online, they are fetched)',
  )
  .action(
    async (o: {
      election: string;
      credential: string;
      voter?: string;
      choose: string[];
      api: string;
      manifest?: string;
      offline?: boolean;
      out?: string;
      auditOut?: string;
      transcript?: string;
    }) => {
      const cred = await readCredential(o.credential, o.voter);
      const { manifest, chainRpcUrl, view } = await loadElection(o.election, o.api, o.manifest);
      const selections = selectionsFromChoices(manifest, o.choose);
      let submission: Submission | EncryptedSubmission;
      if (manifest.version === 2) {
        const { encryptedVote } = await import('./encrypted-vote.js');
        const encrypted = await encryptedVote({
          manifest,
          view,
          source: o.manifest === undefined ? 'the API' : `--manifest ${o.manifest}`,
          credential: cred,
          selections,
          transcriptFile: o.transcript,
          fetchTranscript: o.offline
            ? undefined
            : async () => {
                const r = await api(o.api, `/api/v1/elections/${encodeURIComponent(o.election)}/trustee-messages`);
                if (r.status !== 200) throw new CliError(`cannot load the trustees' transcript: ${errorText(r.body)}`);
                return r.body;
              },
          auditOut: o.auditOut,
          api: o.api,
        });
        if (encrypted === null) return; // audited: opened, written, never cast
        submission = encrypted;
      } else {
        if (o.auditOut !== undefined)
          throw new CliError('--audit-out is for encrypted elections: a plaintext ballot has nothing to open');
        submission = signBallot(Buffer.from(cred.seed, 'hex'), {
          version: 1,
          electionId: o.election,
          credential: cred.credential,
          selections,
        });
      }
      if (!o.offline) return castSigned(o.api, submission, manifest, chainRpcUrl, o.out);
      // The body exactly as POSTed; no private key in it. It holds the vote: keep it as private as the key.
      const hash = hashOfSubmission(submission);
      const out = o.out ?? `ballot-${hash.slice(0, 12)}.json`;
      writeFileSync(out, JSON.stringify(submission) + '\n', { mode: 0o600 });
      console.log(`ballot signed, not sent: ${out} (ballot hash ${hash}); send it, before ${manifest.closesAt}, with:`);
      console.log(`  npx tallyproof submit ${shellWord(out)} --api ${shellWord(o.api)}`);
    },
  );

program
  .command('submit')
  .description(
    'send a ballot signed with `vote --offline` and save its receipt; sending it again is harmless (the same ' +
      'receipt). Exit 0 with a receipt, 2 refused, 3 arrived after the close (not counted)',
  )
  .argument('<ballot-file>', 'the signed ballot {"ballot":…,"signature":…} as `vote --offline` wrote it')
  .option('--api <url>', 'API base URL', DEFAULT_API)
  .option('--out <file>', 'where to save the receipt (default receipt-<ballotHash prefix>.json)')
  .action(async (file: string, o: { api: string; out?: string }) => {
    let submission: Submission | EncryptedSubmission;
    try {
      const body = JSON.parse(readFileSync(file, 'utf8'));
      if (body?.kind === 'audited-ballot')
        throw new CliError(`${file} is an audited ballot: its randomness is revealed, it can never be cast`);
      if (body?.ballot?.version === 2) {
        const { parseEncryptedSubmission } = await import('../../ledger/src/protocol/v2/ballot.js');
        submission = parseEncryptedSubmission(body);
      } else {
        submission = parseSubmission(body);
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`${file} is not a signed ballot: ${(err as Error).message}`);
    }
    // The receipt is checked against the manifest's ledger key: the election as the API serves it.
    const { manifest, chainRpcUrl } = await loadElection(submission.ballot.electionId, o.api, undefined);
    await castSigned(o.api, submission, manifest, chainRpcUrl, o.out);
  });

/** `90d`, `12h`, `30m`, `45s` → milliseconds. */
function parseAge(v: string): number {
  const m = /^(\d+)([dhms])$/.exec(v);
  if (!m || Number(m[1]) === 0) throw new CliError(`--older-than ${v}: expected a positive age such as 90d, 12h, 30m`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

program
  .command('prune-audit')
  .description(
    'retention policy (owner only): delete refused-submission counts last seen, and old per-request audit rows ' +
      'created, before the given age; counts of credentials of elections still open are kept',
  )
  .requiredOption('--older-than <age>', 'age such as 90d, 12h, 30m', parseAge)
  .addOption(
    new Option('--database-owner-url <url>', "the ledger database owner's URL (the app role may not delete)").env(
      'DATABASE_OWNER_URL',
    ),
  )
  .action(async (o: { olderThan: number; databaseOwnerUrl?: string }) => {
    if (!o.databaseOwnerUrl)
      throw new CliError('the owner connection is needed: --database-owner-url or DATABASE_OWNER_URL');
    const { default: postgres } = await import('postgres');
    const { pruneAudit } = await import('../../ledger/src/index.js');
    const sql = postgres(o.databaseOwnerUrl, { max: 1, onnotice: () => {} });
    try {
      const before = new Date(Date.now() - o.olderThan);
      const r = await pruneAudit(sql, before).catch((err: Error & { code?: string }) => {
        if (err.code === '42501')
          throw new CliError(`${err.message}: prune-audit must connect as the database owner, not the app role`);
        throw err;
      });
      console.log(
        `pruned audit rows older than ${before.toISOString()}: ${r.counts} refusal counts, ${r.legacyRows} per-request rows`,
      );
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

registerTrusteeCommands(program, { api, errorText, adminToken, defaultApi: DEFAULT_API, tokenHelp: TOKEN_HELP });

program.parseAsync().catch((err: Error & { exitCode?: number }) => {
  process.stderr.write(`tallyproof: ${err instanceof CliError ? err.message : (err.stack ?? err.message)}\n`);
  // A CliError may carry its own exit code (trustee confirm: 4, a share failed).
  process.exit(err instanceof LateBallot ? 3 : err instanceof CliError ? (err.exitCode ?? 2) : 1);
});
