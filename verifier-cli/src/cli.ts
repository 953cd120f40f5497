// The command line: `tallyproof-verify receipt|audit|tiles save|audited-ballot|roots`. runCli() takes argv and output streams
// and returns the exit code, so tests run it in-process; main.ts wires it to the process.
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runAudit } from './audit/audit.js';
import { defaultThreads } from './audit/pool.js';
import { runReceipt, type ReceiptReport } from './commands/receipt.js';
import { runReceiptFromTiles, type TilesReceiptOptions } from './commands/receipt-tiles.js';
import { runRoots } from './commands/roots.js';
import { runTilesSave, type TilesSaveOptions } from './commands/tiles-save.js';
import type { Engine } from './ed25519.js';
import { EXIT, InputError } from './errors.js';
import {
  formatAudit,
  formatReceipt,
  formatRoots,
  formatTilesSave,
  terminalProgress,
  type OutputStream,
} from './output.js';
import { ApiSource } from './sources/api.js';
import { FileSource, type FileSourceOptions } from './sources/files.js';
import type { ElectionSource } from './sources/source.js';
import { formatAuditedBallot, runAuditedBallot } from './v2/audited-ballot.js';

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  every check holds
  1  at least one check failed (the findings say which, naming the seq or window)
  2  usage error, unreadable file, or a server / RPC endpoint that does not answer
  3  receipt only: the ballot is acknowledged but not anchored yet (try again later)`;

const TRUST_HELP = `
Roots, the manifest hash, the roll root and the result hash are read from the chain (--rpc,
--contract), never taken from the server. See docs/auditors.md.`;

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

function electionIdArg(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value))
    throw new InvalidArgumentError('an election id matches ^[a-z0-9][a-z0-9-]{0,63}$');
  return value;
}

interface AuditFlags {
  election: string;
  api?: string;
  ledger?: string;
  manifest?: string;
  roll?: string;
  results?: string;
  trusteeMessages?: string;
  aggregate?: string;
  decryption?: string;
  intervals?: string;
  windows?: string;
  tiles?: string;
  rpc: string;
  contract: string;
  report?: string;
  engine: Engine;
  threads?: number;
  json?: boolean;
  progress: boolean;
}

/**
 * --api (with --roll FILE as an optional override of GET …/roll), or --ledger + --manifest + --roll (+ --results,
 * for an encrypted election --trustee-messages, --aggregate, --decryption, and for an election of several
 * shards --intervals and --windows).
 */
export function auditSource(flags: AuditFlags): ElectionSource {
  const optionalFiles = {
    trusteeMessages: flags.trusteeMessages,
    aggregate: flags.aggregate,
    decryption: flags.decryption,
    intervals: flags.intervals,
    windows: flags.windows,
  };
  const files =
    flags.ledger !== undefined ||
    flags.manifest !== undefined ||
    flags.results !== undefined ||
    Object.values(optionalFiles).some((f) => f !== undefined);
  if (flags.api !== undefined) {
    if (files)
      throw new InputError(
        'give either --api (optionally with --roll FILE) or the files (--ledger, --manifest, --roll, --results), not both',
      );
    return new ApiSource(flags.api, flags.election, flags.roll);
  }
  if (flags.ledger === undefined || flags.manifest === undefined || flags.roll === undefined) {
    throw new InputError('give --api URL, or all of --ledger FILE, --manifest FILE and --roll FILE');
  }
  const opts: FileSourceOptions = { ledger: flags.ledger, manifest: flags.manifest, roll: flags.roll };
  if (flags.results !== undefined) opts.results = flags.results;
  for (const [key, path] of Object.entries(optionalFiles) as [keyof typeof optionalFiles, string | undefined][])
    if (path !== undefined) opts[key] = path;
  return new FileSource(opts);
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const print = (text: string): void => void io.stdout.write(text);
  const program = new Command('tallyproof-verify')
    .description('Independent verifier for Tallyproof elections: checks receipts, whole ledgers and on-chain roots.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${EXIT_CODES_HELP}\n${TRUST_HELP}`);

  program
    .command('receipt')
    .description("check that one ballot is in a window anchored on chain (a voter's check)")
    .argument('<receipt>', 'the receipt file you were given (JSON), or the 64-hex-digit ballot hash (not with --tiles)')
    .option('--api <url>', 'the Tallyproof server, e.g. https://vote.example.org (required without --tiles)')
    .requiredOption('--rpc <url>', 'an RPC endpoint of the chain')
    .option('--contract <address>', 'the TallyAnchor contract (default: the one the server names; pin it)')
    .option(
      '--tiles <url|dir>',
      "compute the proof from the window's tiles instead of the server's proof bundle: an http(s) base such as " +
        'https://vote.example.org/api/v1/elections/ (or a mirror of it), or a directory written by `tiles save`',
    )
    .option('--manifest <file>', 'with --tiles: the manifest (or a saved GET /api/v1/elections/{id} response)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Fetches GET /api/v1/receipts/{ballotHash} and GET /api/v1/elections/{id}; checks the receipt's signature
against the manifest's ledgerKey, the manifest hash against the chain, and the inclusion proof against
the window root read from the chain (with this tool's RFC 9162 code and the contract's verifyInclusion).
With a receipt file, also checks that the server still holds exactly that receipt.

With --tiles URL|DIR the server's proof bundle is not used (nor asked for): the window holding the receipt's
seq is read from the chain (getWindow, searched by firstSeq), the inclusion proof is computed from that
window's C2SP tlog-tiles (a few tiles: the leaf's and the rightmost of each level), the level-0 tile must hold
H(0x00 || ballotHash) at the receipt's position, and the path must lead to the root on chain (this tool's code
and verifyInclusion). Tiles are never trusted: a tile that disagrees is named. A tile that is not there is exit 2.
Give the receipt file (its seq says where the ballot is). The manifest, checked against the chain, comes from
--manifest FILE, else from --api, else from the tiles: DIR/<election>/election.json (\`tiles save\` writes it),
or over HTTP <base><election>/election.json, then <base><election> (the API's own route). So with a saved copy
or a CDN, a receipt is checked with no request to the API at all.
An election of several shards: the chain holds interval roots but not the window records, so the records come
from GET …/intervals with --api, else from the tiles (DIR/<election>/intervals.json, or over HTTP
<base><election>/intervals.json, then <base><election>/intervals): not trusted, the records of the receipt's
interval must give its root on chain (getInterval) before the window they name is used.
${EXIT_CODES_HELP}

Examples:
  tallyproof-verify receipt receipt.json --api https://vote.example.org --rpc https://rpc.example.org --contract 0x…
  tallyproof-verify receipt receipt.json --tiles https://vote.example.org/api/v1/elections/ --rpc URL --contract 0x…
  tallyproof-verify receipt receipt.json --tiles ./tiles --rpc URL --contract 0x…`,
    )
    .action(
      async (
        input: string,
        flags: { api?: string; rpc: string; contract?: string; tiles?: string; manifest?: string; json?: boolean },
      ) => {
        let report: ReceiptReport;
        if (flags.tiles !== undefined) {
          const opts: TilesReceiptOptions = { input, tiles: flags.tiles, rpcUrl: flags.rpc };
          if (flags.api !== undefined) opts.api = flags.api;
          if (flags.contract !== undefined) opts.contract = flags.contract;
          if (flags.manifest !== undefined) opts.manifest = flags.manifest;
          report = await runReceiptFromTiles(opts);
        } else {
          if (flags.api === undefined) throw new InputError('give --api URL (or --tiles URL|DIR)');
          if (flags.manifest !== undefined) throw new InputError('--manifest goes with --tiles');
          const opts = { input, api: flags.api, rpcUrl: flags.rpc };
          report = await runReceipt(flags.contract === undefined ? opts : { ...opts, contract: flags.contract });
        }
        print(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReceipt(report));
        setExit(
          report.verdict === 'anchored'
            ? EXIT.ok
            : report.verdict === 'not-anchored'
              ? EXIT.notYetAnchored
              : EXIT.failed,
        );
      },
    );

  program
    .command('audit')
    .description('check a whole election: every ballot, the roll, every window root, the tally')
    .requiredOption('--election <id>', 'the election id', electionIdArg)
    .option('--api <url>', 'read manifest, roll (GET …/roll, streamed), ledger and results from this Tallyproof server')
    .option(
      '--ledger <file>',
      'the ledger as NDJSON, one {"seq","ballotHash","ballot","signature","receivedAt"} per line ({"shard",…} first with several shards)',
    )
    .option('--manifest <file>', 'the manifest (or a saved GET /api/v1/elections/{id} response)')
    .option(
      '--roll <file>',
      'the credential roll: a JSON array of hex keys, or one key per line (required with the files; with --api, optional: used instead of GET …/roll)',
    )
    .option('--results <file>', 'the published results to compare with the recount (file mode)')
    .option('--trustee-messages <file>', 'an encrypted election: the key ceremony transcript (file mode)')
    .option('--aggregate <file>', 'an encrypted election: the published aggregate (file mode)')
    .option('--decryption <file>', 'an encrypted election: the published decryption (file mode)')
    .option(
      '--intervals <file>',
      'an election of several shards: the anchor intervals with their window records, saved GET …/intervals (file mode)',
    )
    .option(
      '--windows <file>',
      "an election of several shards: every shard's windows, saved GET …/windows?shard=s (file mode, optional)",
    )
    .option(
      '--tiles <url|dir>',
      'tiles saved earlier: a directory (`tiles save`) as <dir>/<election>/windows/<w>/tile/…, or an http(s) base such as https://cdn.example.org/api/v1/elections/: a window whose root differs names the seqs that differ from them',
    )
    .requiredOption('--rpc <url>', 'an RPC endpoint of the chain')
    .requiredOption('--contract <address>', 'the TallyAnchor contract')
    .option('--report <file>', 'write the full JSON report (every finding) to this file')
    .addOption(
      new Option('--engine <engine>', 'signature engine: node (node:crypto, fast) or noble (pure JS cross-check)')
        .choices(['node', 'noble'])
        .default('node'),
    )
    .option(
      '--threads <n>',
      `worker threads for signature checks (default: one per core, ${defaultThreads()} here; 0 = none)`,
      positiveInt,
    )
    .option('--json', 'print the report as JSON instead of text')
    .option('--no-progress', 'no progress bar (it only shows on a terminal anyway)')
    .addHelpText(
      'after',
      `
Checks: every ballot's signature (strict Ed25519), JCS form and manifest rules; every credential on
the roll; one ballot per credential and per hash; seq gap-free from 0; every window's RFC 6962 root
recomputed and equal to the chain's; ballots beyond the last window reported as unanchored (a warning
while open, a failure after the close); the recount against the published results and, after the
close, against the chain's resultHash and totalBallots.

With --api, everything comes from the server: GET /api/v1/elections/{id}, …/roll (NDJSON, one key per
line, read as it streams), …/ledger and …/results. --roll FILE replaces the roll download (a roll the
election authority published, or a server without the route); either way the roll is checked against
the rollRoot registered on chain.

An encrypted election (manifest version 2) also needs its key ceremony transcript, and after the close
its aggregate and decryption (…/trustee-messages, …/aggregate, …/decryption with --api; the files with
--trustee-messages, --aggregate, --decryption): every trustee message's signature and proofs, the election
key, every ballot's proofs (on the worker threads), the aggregate against the ledger, every partial
decryption's proof, and the counts recombined from them against the published ones and the chain.

An election of several shards (manifest "shards" > 1) anchors intervals of shard windows: the audit also
reads …/intervals and …/windows?shard=s (files: --intervals, --windows), checks every interval's records
against its root, windowCount and ballotCount on chain, every window in exactly one interval in window
order, each shard's seqs and window roots, every ballot in the shard its credential names.

--tiles DIR|URL: the tiles of windows saved earlier, laid out as the server serves them: a directory
(DIR/<election>/windows/<w>/tile/0/000, …/tile/entries/000, …; several shards:
DIR/<election>/shards/<s>/windows/<w>/tile/…, as \`tiles save\` writes it), or an http(s) base of the same tree
(the server's https://vote.example.org/api/v1/elections/, or a CDN that kept its immutable tiles). A window whose
root differs from the chain's (or its anchored record's) is then compared with its saved tiles, once they give
that root, and each seq whose ballot hash differs is named, with its ballot hash then and now.
${EXIT_CODES_HELP}

Examples:
  tallyproof-verify audit --election demo-2026 --api https://vote.example.org --rpc URL --contract 0x… --report report.json
  tallyproof-verify audit --election demo-2026 --api https://vote.example.org --roll roll.json --rpc URL --contract 0x…
  tallyproof-verify audit --election demo-2026 --ledger ledger.ndjson --manifest manifest.json --roll roll.json \\
      --results results.json --rpc URL --contract 0x…
  tallyproof-verify audit --election big-2026 --ledger ledger.ndjson --manifest manifest.json --roll roll.json \
      --intervals intervals.json --windows windows.json --rpc URL --contract 0x…`,
    )
    .action(async (flags: AuditFlags) => {
      const source = auditSource(flags);
      const progress = terminalProgress(
        io.stderr as OutputStream & NodeJS.WritableStream,
        flags.progress && !flags.json,
      );
      const report = await runAudit({
        electionId: flags.election,
        source,
        rpcUrl: flags.rpc,
        contract: flags.contract,
        engine: flags.engine,
        threads: flags.threads ?? defaultThreads(),
        ...(flags.tiles === undefined ? {} : { tiles: flags.tiles }),
        ...(progress === undefined ? {} : { progress }),
      });
      if (flags.report !== undefined) {
        try {
          await writeFile(flags.report, JSON.stringify(report, null, 2) + '\n');
        } catch (err) {
          throw new InputError(`cannot write the report to ${flags.report}: ${(err as Error).message}`);
        }
      }
      print(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatAudit(report));
      setExit(report.verdict === 'pass' ? EXIT.ok : EXIT.failed);
    });

  const tiles = program
    .command('tiles')
    .description("an observer's copy of an election's tiles (C2SP tlog-tiles of every window)");
  tiles
    .command('save')
    .description('download every hash tile and entry bundle of every sealed window into a directory, checked')
    .requiredOption('--api <url>', 'the Tallyproof server, e.g. https://vote.example.org')
    .requiredOption('--election <id>', 'the election id', electionIdArg)
    .requiredOption('--out <dir>', 'the directory to save into (created; a copy there is resumed)')
    .option('--from-window <n>', 'leave the windows below this index alone (in every shard)', positiveInt, 0)
    .option('--rpc <url>', 'an RPC endpoint of the chain: the windows and their roots are then read from it')
    .option('--contract <address>', 'with --rpc: the TallyAnchor contract (default: the one the server names; pin it)')
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress bar (it only shows on a terminal anyway)')
    .addHelpText(
      'after',
      `
Saves, for every sealed window of the election (every shard's), its hash tiles and entry bundles as the server
serves them (GET /api/v1/elections/{id}/windows/{w}/tile/…, several shards …/shards/{s}/windows/{w}/tile/…) into
OUT/<election>/windows/<w>/tile/… (several shards OUT/<election>/shards/<s>/windows/<w>/tile/…), the layout
\`receipt --tiles OUT\` and \`audit --tiles OUT\` read. Beside them OUT/<election>/election.json (the election
document: manifest, contract) and, with several shards, intervals.json (every anchor interval's records), so that
a receipt can be checked from the copy alone.

Each window is checked as a whole before anything of it is written: its entry bundles give its ballot hashes,
whose tiles must be byte for byte the hash tiles served, and whose RFC 6962 root must be the window's root.
With --rpc (and --contract) that root is the one on chain (getWindow; several shards: the anchor intervals'
records, each interval's checked against its root on chain), and only anchored windows are saved. Without
--rpc it is the root the server lists (GET …/windows): every sealed window, checked for consistency only — the
report says which. A window that does not check is a finding (window-root-mismatch) and nothing of it is written.

Resumable: files already in OUT are not downloaded again (they are checked with the rest of their window);
files are written to a temporary name and renamed, so any file there is whole. Requests time out after 30 s and
are retried with backoff on network errors and 5xx; a 404 for a tile of a listed window leaves that window out
(exit 2: run again later). Exit 0 when every window listed is saved, 1 when one does not check.

Example:
  tallyproof-verify tiles save --api https://vote.example.org --election demo-2026 --out ./tiles \\
      --rpc https://rpc.example.org --contract 0x…`,
    )
    .action(
      async (flags: {
        api: string;
        election: string;
        out: string;
        fromWindow: number;
        rpc?: string;
        contract?: string;
        json?: boolean;
        progress: boolean;
      }) => {
        if (flags.contract !== undefined && flags.rpc === undefined) throw new InputError('--contract goes with --rpc');
        const progress = terminalProgress(
          io.stderr as OutputStream & NodeJS.WritableStream,
          flags.progress && !flags.json,
        );
        const opts: TilesSaveOptions = {
          api: flags.api,
          electionId: flags.election,
          out: flags.out,
          fromWindow: flags.fromWindow,
        };
        if (flags.rpc !== undefined) opts.rpcUrl = flags.rpc;
        if (flags.contract !== undefined) opts.contract = flags.contract;
        if (progress !== undefined) opts.progress = progress;
        const report = await runTilesSave(opts);
        print(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatTilesSave(report));
        setExit(report.verdict === 'saved' ? EXIT.ok : report.verdict === 'failed' ? EXIT.failed : EXIT.usage);
      },
    );

  program
    .command('audited-ballot')
    .description("check an audited ballot's opening (the Benaloh challenge) and show what it encrypted")
    .argument('<file>', 'the audited ballot file the voter page saved ({"kind":"audited-ballot",…})')
    .option('--api <url>', 'the Tallyproof server: the manifest, and the election key from its key ceremony')
    .option('--manifest <file>', 'the manifest (or a saved GET /api/v1/elections/{id} response), without --api')
    .option('--public-key <hex>', 'the election key H, with --manifest')
    .option('--trustee-messages <file>', 'or the key ceremony transcript to compute H from, with --manifest')
    .addOption(
      new Option('--engine <engine>', 'signature engine: node or noble').choices(['node', 'noble']).default('node'),
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Checks that the opening's ballotHash is its submission's, that every choice's ciphertext is
(r·G, m·G + r·H) for the randomness r given and m = 1 exactly when it says selected, that the
selections respect the manifest, and that the ballot itself is valid (proofs, signature). Prints the
choices it encrypted. Exit 0 when it checks, 1 when not, 2 on a usage or I/O error.

Examples:
  tallyproof-verify audited-ballot audited-ballot.json --api https://vote.example.org
  tallyproof-verify audited-ballot audited-ballot.json --manifest manifest.json --public-key 5b1c…`,
    )
    .action(
      async (
        file: string,
        flags: {
          api?: string;
          manifest?: string;
          publicKey?: string;
          trusteeMessages?: string;
          engine: Engine;
          json?: boolean;
        },
      ) => {
        const report = await runAuditedBallot({ file, ...flags });
        print(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatAuditedBallot(report));
        setExit(report.verdict === 'checks' ? EXIT.ok : EXIT.failed);
      },
    );

  program
    .command('roots')
    .description(
      "list an election's registration, anchored windows and close, read from the chain (an observer's lookup)",
    )
    .requiredOption('--rpc <url>', 'an RPC endpoint of the chain')
    .requiredOption('--contract <address>', 'the TallyAnchor contract')
    .requiredOption('--election <id>', 'the election id', electionIdArg)
    .option('--logs [fromBlock]', 'also find the transactions of the events (eth_getLogs from this block, default 0)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `${EXIT_CODES_HELP}`)
    .action(
      async (flags: { rpc: string; contract: string; election: string; logs?: string | boolean; json?: boolean }) => {
        let logsFromBlock: number | undefined;
        if (flags.logs !== undefined)
          logsFromBlock = flags.logs === true ? 0 : positiveIntOrInput(String(flags.logs), '--logs');
        const opts = { rpcUrl: flags.rpc, contract: flags.contract, electionId: flags.election };
        const report = await runRoots(logsFromBlock === undefined ? opts : { ...opts, logsFromBlock });
        print(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatRoots(report));
        setExit(report.findings.some((f) => f.severity === 'error') ? EXIT.failed : EXIT.ok);
      },
    );

  return program;
}

function positiveIntOrInput(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new InputError(`${flag} takes a block number`);
  return Number(value);
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof InputError) {
      io.stderr.write(`tallyproof-verify: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`tallyproof-verify: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.usage;
  }
}
