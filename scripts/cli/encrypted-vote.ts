// `tallyproof vote` for an encrypted election (manifest version 2, docs/protocol.md 12.4 and 12.8): each choice
// encrypted to the election key with its proofs, signed by the credential as in version 1. The election key is
// the one the trustees' signed messages give: the CLI checks the server's against the transcript (fetched, or
// --transcript FILE offline) so that a server cannot hand voters a key of its own. With --audit-out, the ballot
// is opened instead (Benaloh challenge) and never cast.
import { writeFileSync } from 'node:fs';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import { type Manifest, manifestHash } from '../../ledger/src/protocol/protocol.js';
import {
  auditedBallot,
  checkAuditedBallot,
  type EncryptedElectionContext,
  type EncryptedSubmission,
  encryptBallot,
} from '../../ledger/src/protocol/v2/ballot.js';
import { electionPublicKey } from '../../ledger/src/protocol/v2/tally.js';
import { CliError } from './selections.js';
import { acceptedMessages, readJson } from './trustee-steps.js';

const q = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

export interface EncryptedVoteOptions {
  manifest: Manifest;
  /** The election as the server serves it (GET /api/v1/elections/{id}), or null for a bare manifest file. */
  view: Record<string, any> | null;
  /** Where the election came from, for messages: `--manifest FILE` or `the API`. */
  source: string;
  credential: { credential: string; seed: string };
  selections: Record<string, string[]>;
  /** The transcript: a file (offline), else fetched when `fetchTranscript` is given. */
  transcriptFile?: string;
  fetchTranscript?: () => Promise<unknown>;
  auditOut?: string;
  api: string;
}

/** The context a ballot is encrypted in: the manifest, its hash, and the election key (checked). */
async function electionContext(o: EncryptedVoteOptions): Promise<EncryptedElectionContext> {
  const id = o.manifest.electionId;
  if (o.view === null)
    throw new CliError(
      `${id} is an encrypted election: its ballots are encrypted to the election key, which the election as the ` +
        `server serves it carries (encryption.publicKey). Give --manifest the file \`tallyproof election show ` +
        `--election ${id}\` writes, not the bare manifest`,
    );
  const mh = manifestHash(o.manifest).toString('hex');
  if (o.view.manifestHash !== mh)
    throw new CliError(`${o.source}: the manifest does not hash to the manifestHash given with it`);
  const publicKey = o.view.encryption?.publicKey;
  if (typeof publicKey !== 'string')
    throw new CliError(
      o.view.encryption
        ? `the key ceremony of ${id} is not complete (${o.view.encryption.keyCeremony}): there is no election key ` +
            'yet, and ballots are refused until the trustees have confirmed one'
        : `${o.source} carries no election key (encryption.publicKey); save the election again with ` +
            `\`tallyproof election show --election ${id}\``,
    );
  const ctx = { manifest: o.manifest, manifestHash: mh, publicKey };
  let transcript: unknown = null;
  let where = '';
  if (o.transcriptFile !== undefined) {
    transcript = readJson(o.transcriptFile, '--transcript');
    where = `--transcript ${o.transcriptFile}`;
  } else if (o.fetchTranscript) {
    transcript = await o.fetchTranscript();
    where = 'the transcript the API serves';
  }
  if (transcript === null) {
    process.stderr.write(
      `note: the election key was taken from ${o.source} as it is; with --transcript FILE (\`tallyproof trustee ` +
        "fetch --transcript` writes it) it is checked against the trustees' signed messages\n",
    );
    return ctx;
  }
  const fromTrustees = electionPublicKey(o.manifest, acceptedMessages({ ...ctx, view: o.view }, transcript, where));
  if (fromTrustees === null)
    throw new CliError(`${where}: not every trustee has confirmed the key: the key ceremony is not complete`);
  if (fromTrustees !== publicKey)
    throw new CliError(
      `the election key ${o.source} gives (${publicKey}) is not the one the trustees' signed messages make ` +
        `(${fromTrustees}): do not vote with it; tell the election official`,
    );
  return ctx;
}

/**
 * The encrypted, proved and signed ballot to cast; or, with `auditOut`, null after writing the audited ballot
 * (the opening of a ballot that is never cast).
 */
export async function encryptedVote(o: EncryptedVoteOptions): Promise<EncryptedSubmission | null> {
  const ctx = await electionContext(o);
  const seed = Buffer.from(o.credential.seed, 'hex');
  if (seed.length !== 32 || keyPairFromSeed(seed).publicKey.toString('hex') !== o.credential.credential)
    throw new CliError(`the credential file's seed is not the seed of credential ${o.credential.credential}`);
  const ballot = encryptBallot(ctx, seed, o.selections);
  if (o.auditOut === undefined) return ballot.submission;
  const audited = auditedBallot(ballot);
  const opened = checkAuditedBallot(ctx, audited);
  // It reveals the vote it holds: as private as the credential.
  writeFileSync(o.auditOut, `${JSON.stringify(audited, null, 2)}\n`, { mode: 0o600 });
  const shown = Object.entries(opened)
    .map(([c, ks]) => `${c}=${ks.join(',') || '(none)'}`)
    .join(' ');
  console.log(`audited ballot written to ${o.auditOut} (ballot hash ${ballot.ballotHash}); it encrypts: ${shown}`);
  console.log('it was not cast, and never can be: its randomness is revealed. Check it independently with:');
  console.log(`  npx tallyproof-verify audited-ballot ${q(o.auditOut)} --api ${q(o.api)}`);
  console.log('to vote, run the same command without --audit-out: the ballot is encrypted anew (a new ballot hash)');
  return null;
}
