// What `tallyproof trustee …` does (the commands and their help are in trustee.ts). Every step of the two
// ceremonies (docs/protocol.md 12.3 and 12.5; docs/trustees.md) is a file in and a file out, run on the
// trustee's own machine, offline: only `post` and `fetch` touch the network. The crypto is the core's
// (ledger/src/protocol/v2); this file keeps the secrets in the trustee file, checks what comes in (the
// election against its manifestHash, every message of the transcript as the board must have, the aggregate
// against the key this trustee confirmed), and says what to do next.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jcs } from '../../ledger/src/protocol/jcs.js';
import { type Manifest, manifestHash, normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import { elementFromHex, mulBase, scalarFromHex } from '../../ledger/src/protocol/v2/group.js';
import { verifyDecryptShare } from '../../ledger/src/protocol/v2/proofs.js';
import type { Aggregate } from '../../ledger/src/protocol/v2/tally.js';
import {
  aggregateHashOf,
  BadShareError,
  boardDecision,
  ceremonyKeys,
  commitsOf,
  type KeygenShares,
  makeDecryptShare,
  makeKeygenCommit,
  makeKeygenConfirm,
  makeKeygenShares,
  signTrusteeMessage,
  type TrusteeEnvelope,
  trusteeEnvelopeShapeProblem,
  type TrusteeMessageKind,
} from '../../ledger/src/protocol/v2/trustees.js';
import { CliError } from './selections.js';
import {
  emptyElection,
  looksLikeTrusteeFile,
  newTrusteeFile,
  readTrusteeFile,
  type TrusteeElection,
  type TrusteeFile,
  writeTrusteeFile,
} from './trustee-file.js';

/** A share failed at `confirm`: the key ceremony must be run again without its sender. Exit code 4. */
export class CeremonyMustRestart extends CliError {
  readonly exitCode = 4;
}

/** The CLI's HTTP helper (tallyproof.ts's `api`): never throws on a status, only when the API is unreachable. */
export type Http = (base: string, path: string, init?: RequestInit) => Promise<{ status: number; body: any }>;

const say = (line: string) => process.stderr.write(`${line}\n`);
const q = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readJson(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`${option} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${option} ${path} is not JSON: ${(err as Error).message}`);
  }
}

// ---- The election ----

/** An encrypted election as the server stores it: its manifest, and the manifestHash it was registered with. */
export interface ElectionInput {
  manifest: Manifest;
  manifestHash: string;
  view: Record<string, unknown>;
}

/**
 * The body of `GET /api/v1/elections/{id}` (what `trustee fetch --election-view` and `election show` write):
 * its manifest must hash to its manifestHash, be valid, and be a version 2 (encrypted) election.
 */
export function electionFromView(body: unknown, where: string): ElectionInput {
  if (!isObject(body) || !isObject(body.manifest) || typeof body.manifestHash !== 'string')
    throw new CliError(
      `${where} must be the election as the server serves it, with its manifest and manifestHash ` +
        '(`tallyproof trustee fetch --election-view` or `tallyproof election show` writes it)',
    );
  const manifest = body.manifest as unknown as Manifest;
  let hash: string;
  try {
    hash = manifestHash(manifest).toString('hex');
  } catch (err) {
    throw new CliError(`${where}: the manifest cannot be hashed: ${(err as Error).message}`);
  }
  if (hash !== body.manifestHash)
    throw new CliError(
      `${where}: the manifest does not hash to the manifestHash written next to it (${body.manifestHash}); ` +
        'the file was altered, or is not what the server stores',
    );
  try {
    normalizeManifest(manifest, typeof manifest.ledgerKey === 'string' ? manifest.ledgerKey : '');
  } catch (err) {
    throw new CliError(`${where}: the manifest is not valid: ${(err as Error).message}`);
  }
  if (manifest.version !== 2 || manifest.ballotMode !== 'encrypted' || !manifest.trustees)
    throw new CliError(`${where}: ${manifest.electionId} is a plaintext election (manifest version 1): no trustees`);
  return { manifest, manifestHash: hash, view: body };
}

function readElection(path: string): ElectionInput {
  return electionFromView(readJson(path, '--election'), `--election ${path}`);
}

/** The manifest must list this file's trustee, with this file's key. */
function checkListed(e: ElectionInput, tf: TrusteeFile, trusteePath: string): void {
  const trustees = e.manifest.trustees ?? [];
  const entry = trustees.find((t) => t.id === tf.id);
  if (!entry)
    throw new CliError(
      `${trusteePath} is trustee ${tf.id}, who is not a trustee of ${e.manifest.electionId} ` +
        `(its trustees: ${trustees.map((t) => t.id).join(', ')})`,
    );
  if (entry.key !== tf.key)
    throw new CliError(
      `the manifest of ${e.manifest.electionId} lists trustee ${tf.id} with key ${entry.key}, but ${trusteePath} ` +
        `holds key ${tf.key}: is it the right trustee file?`,
    );
}

const sameElection = (held: TrusteeElection, e: ElectionInput) =>
  held.electionId === e.manifest.electionId && held.manifestHash === e.manifestHash;

function stepReached(held: TrusteeElection): string {
  if (held.decrypt) return 'decrypt done';
  if (held.confirm) return 'key generation confirmed';
  if (held.shares) return 'shares sent';
  return held.commit ? 'committed' : 'no step yet';
}

/** The trustee file, the election, and what the file holds for that election (its `commit` done). */
function loadStep(o: { trustee: string; election: string }, step: string) {
  const tf = readTrusteeFile(o.trustee);
  const e = readElection(o.election);
  checkListed(e, tf, o.trustee);
  const held = tf.election;
  if (!held?.commit)
    throw new CliError(
      `${o.trustee} has not taken part in ${e.manifest.electionId} yet: run \`tallyproof trustee commit\` ` +
        `before ${step}`,
    );
  if (!sameElection(held, e))
    throw new CliError(
      `${o.trustee} holds the secrets of election ${held.electionId} (manifest ${held.manifestHash}), ` +
        `not of ${e.manifest.electionId} (manifest ${e.manifestHash}): is it the right trustee or election file?`,
    );
  return { tf, e, held };
}

function seedOf(tf: TrusteeFile): Buffer {
  return Buffer.from(tf.signingSeed, 'hex');
}

// ---- The messages ----

/** Write a signed message (public: it goes to the board); never over the trustee file or another one. */
function writeMessage(out: string, env: TrusteeEnvelope, trusteePath: string): void {
  if (resolve(out) === resolve(trusteePath)) throw new CliError(`--out ${out} is the trustee file itself`);
  if (existsSync(out) && looksLikeTrusteeFile(readFileSync(out, 'utf8')))
    throw new CliError(`--out ${out} is a trustee file; refusing to write a message over it`);
  try {
    writeFileSync(out, `${JSON.stringify(env, null, 2)}\n`);
  } catch (err) {
    throw new CliError(`--out ${out}: ${(err as Error).message}`);
  }
}

function postHint(out: string, e: ElectionInput): string {
  return `carry ${out} to a machine online and post it:\n  npx tallyproof trustee post --api URL --election ${e.manifest.electionId} ${q(out)}`;
}

function writeAgain(out: string, env: TrusteeEnvelope, trusteePath: string, force: boolean | undefined): void {
  writeMessage(out, env, trusteePath);
  say(
    `${env.message.kind} of ${env.message.trustee} already made for ${env.message.electionId}: the same message ` +
      `written again to ${out} (the board takes a byte-identical repeat)` +
      (force === undefined ? '' : '; --force makes a new one, only if the first was never posted'),
  );
}

/**
 * The messages of a transcript (the body of `GET …/trustee-messages`), each checked as the board must have
 * checked it (signature by the manifest's trustee key, order, proofs): a server that altered or invented one
 * is caught here. The decrypt messages are left out (the key generation does not use them).
 */
export function acceptedMessages(e: ElectionInput, transcript: unknown, where: string): TrusteeEnvelope[] {
  if (!isObject(transcript) || !Array.isArray(transcript.messages))
    throw new CliError(
      `${where} must be the transcript, the body of GET …/trustee-messages ` +
        '(`tallyproof trustee fetch --transcript` writes it)',
    );
  if (transcript.electionId !== e.manifest.electionId)
    throw new CliError(`${where} is the transcript of ${String(transcript.electionId)}, not ${e.manifest.electionId}`);
  const accepted: TrusteeEnvelope[] = [];
  const state = { manifest: e.manifest, manifestHash: e.manifestHash, accepted, aggregate: null };
  transcript.messages.forEach((env: unknown, i: number) => {
    const m = isObject(env) && isObject(env.message) ? env.message : {};
    if (m.kind === 'decrypt') return;
    const d = boardDecision(state, env);
    if (d.kind === 'refuse')
      throw new CliError(
        `${where}: message ${i} (${String(m.kind)} of ${String(m.trustee)}) is one the board must refuse ` +
          `(${d.code}: ${d.message}). The transcript was altered, or the server accepted what it must not: ` +
          'stop, and tell the election official',
      );
    if (d.kind === 'accept') accepted.push(env as TrusteeEnvelope);
  });
  // The server's own figures, when it gives them, must be what the signed messages give.
  const commits = commitsOf(accepted);
  if (typeof transcript.publicKey === 'string' || isObject(transcript.verificationKeys)) {
    const keys = commits.length === (e.manifest.trustees ?? []).length ? ceremonyKeys(e.manifest, commits) : null;
    if (
      !keys ||
      (typeof transcript.publicKey === 'string' && transcript.publicKey !== keys.publicKey) ||
      (isObject(transcript.verificationKeys) && jcs(transcript.verificationKeys) !== jcs(keys.verificationKeys))
    )
      throw new CliError(
        `${where}: the election key or verification keys it states are not those the trustees' commitments give: ` +
          'stop, and tell the election official',
      );
  }
  return accepted;
}

function readTranscript(e: ElectionInput, path: string): TrusteeEnvelope[] {
  return acceptedMessages(e, readJson(path, '--transcript'), `--transcript ${path}`);
}

/** This trustee's own message must be on the board, exactly as this file made it. */
function ownOnBoard(accepted: readonly TrusteeEnvelope[], mine: TrusteeEnvelope, trusteePath: string): void {
  const { kind, trustee } = mine.message;
  const onBoard = accepted.find((x) => x.message.trustee === trustee && x.message.kind === kind);
  if (!onBoard)
    throw new CliError(
      `your ${kind} is not on the board yet: post it (\`tallyproof trustee post\`), then fetch the transcript again`,
    );
  if (jcs(onBoard) !== jcs(mine))
    throw new CliError(
      `the board holds a ${kind} of ${trustee}, signed with your key, that is not the one ${trusteePath} made ` +
        '(was the step run again with --force after the first was posted?). The secrets of this file do not ' +
        'match the board: the key ceremony must be run again. If you did not post it, your signing key leaked.',
    );
}

/** Every trustee's message of `kind` must be on the board before the next step. */
function everyTrustee(e: ElectionInput, accepted: readonly TrusteeEnvelope[], kind: TrusteeMessageKind): void {
  const missing = (e.manifest.trustees ?? [])
    .map((t) => t.id)
    .filter((id) => !accepted.some((x) => x.message.trustee === id && x.message.kind === kind));
  if (missing.length > 0)
    throw new CliError(
      `not every trustee has posted its ${kind}: waiting for ${missing.join(', ')}. ` +
        'Fetch the transcript again once they have, and run this step again',
    );
}

// ---- The steps ----

export function newStep(o: { id: string; out: string; publicOut?: string }): void {
  const tf = newTrusteeFile(o.id);
  writeTrusteeFile(o.out, tf, { create: true });
  const entry = `${JSON.stringify({ id: tf.id, key: tf.key })}\n`;
  if (o.publicOut) {
    try {
      writeFileSync(o.publicOut, entry);
    } catch (err) {
      throw new CliError(`--public-out ${o.publicOut}: ${(err as Error).message}`);
    }
  }
  process.stdout.write(entry);
  say(
    `trustee ${tf.id}: secret file ${o.out} (mode 0600; keep it on this machine, back it up offline). ` +
      `Give the official the public entry above${o.publicOut ? ` (also in ${o.publicOut})` : ''} for the ` +
      "manifest's trustees.",
  );
}

export function commitStep(o: { trustee: string; election: string; out: string; force?: boolean }): void {
  const tf = readTrusteeFile(o.trustee);
  const e = readElection(o.election);
  checkListed(e, tf, o.trustee);
  const eid = e.manifest.electionId;
  const held = tf.election;
  if (held && !sameElection(held, e)) {
    if (!o.force)
      throw new CliError(
        `${o.trustee} already holds the secrets of election ${held.electionId} (${stepReached(held)}); refusing ` +
          `to overwrite them. To take part in ${eid} with the same signing key, copy the file first ` +
          `(cp ${q(o.trustee)} NEW-FILE) and run commit on the copy with --force`,
      );
  } else if (held?.commit && !o.force) {
    writeAgain(o.out, held.commit, o.trustee, false);
    return;
  }
  if (held?.keyShare) say(`warning: --force discards the key share ${o.trustee} held for ${held.electionId}`);
  const { message, secrets } = makeKeygenCommit(e.manifest, e.manifestHash, tf.id);
  const env = signTrusteeMessage(seedOf(tf), message);
  tf.election = { ...emptyElection(eid, e.manifestHash), keygen: secrets, commit: env };
  // The secrets are on disk before the message that commits to them can leave.
  writeTrusteeFile(o.trustee, tf);
  writeMessage(o.out, env, o.trustee);
  const trustees = (e.manifest.trustees ?? []).map((t) => t.id);
  say(
    `election ${eid}, manifest hash ${e.manifestHash}: threshold ${e.manifest.threshold} of ${trustees.length} ` +
      `(${trustees.join(', ')}); check these with the official`,
  );
  say(`keygen-commit of ${tf.id} for ${eid} written to ${o.out}; its secrets kept in ${o.trustee}`);
  say(`next: ${postHint(o.out, e)}`);
  say('then, once every trustee has committed: `tallyproof trustee fetch --transcript`, then `trustee shares`');
}

export function sharesStep(o: {
  trustee: string;
  election: string;
  transcript: string;
  out: string;
  force?: boolean;
}): void {
  const { tf, e, held } = loadStep(o, 'shares');
  if (held.shares && !o.force) {
    writeAgain(o.out, held.shares, o.trustee, false);
    return;
  }
  if (held.confirm)
    throw new CliError(`${o.trustee} has already confirmed the key of ${held.electionId}: its shares cannot change`);
  const accepted = readTranscript(e, o.transcript);
  ownOnBoard(accepted, held.commit!, o.trustee);
  everyTrustee(e, accepted, 'keygen-commit');
  const message = makeKeygenShares(e.manifest, e.manifestHash, tf.id, held.keygen!, commitsOf(accepted));
  const env = signTrusteeMessage(seedOf(tf), message);
  tf.election = { ...held, shares: env };
  writeTrusteeFile(o.trustee, tf);
  writeMessage(o.out, env, o.trustee);
  say(
    `keygen-shares of ${tf.id} written to ${o.out}: one share for each of ${Object.keys(message.shares).join(', ')}, ` +
      'each encrypted to its trustee alone',
  );
  say(`next: ${postHint(o.out, e)}`);
  say('then, once every trustee has sent its shares: `trustee fetch --transcript`, then `trustee confirm`');
}

export function confirmStep(o: {
  trustee: string;
  election: string;
  transcript: string;
  out: string;
  force?: boolean;
}): void {
  const { tf, e, held } = loadStep(o, 'confirm');
  if (held.confirm) {
    if (o.force)
      throw new CliError(
        `${o.trustee} confirmed already and then discarded the key generation's secrets: a confirm cannot be ` +
          'made again (the one it made is written without --force)',
      );
    writeAgain(o.out, held.confirm, o.trustee, undefined);
    return;
  }
  if (!held.shares) throw new CliError(`run \`tallyproof trustee shares\` with ${o.trustee} before confirm`);
  const accepted = readTranscript(e, o.transcript);
  ownOnBoard(accepted, held.commit!, o.trustee);
  ownOnBoard(accepted, held.shares, o.trustee);
  everyTrustee(e, accepted, 'keygen-shares');
  const shares = accepted.filter((x) => x.message.kind === 'keygen-shares').map((x) => x.message as KeygenShares);
  let made: ReturnType<typeof makeKeygenConfirm>;
  try {
    made = makeKeygenConfirm(e.manifest, e.manifestHash, tf.id, held.keygen!, commitsOf(accepted), shares);
  } catch (err) {
    if (err instanceof BadShareError)
      throw new CeremonyMustRestart(
        `the share trustee ${err.from} sent to ${tf.id} fails: ${err.message}. Do not confirm: nothing was ` +
          `written. Tell the election official: the key ceremony must be run again, from a new election whose ` +
          `manifest leaves out trustee ${err.from} (docs/trustees.md, "When a share fails")`,
      );
    throw new CliError(`confirm failed: ${(err as Error).message}`);
  }
  const env = signTrusteeMessage(seedOf(tf), made.message);
  const verificationKey = made.message.verificationKeys[tf.id]!;
  // The key generation's secrets have done their work: only the key share is kept from here on.
  tf.election = {
    ...held,
    keygen: null,
    keyShare: made.keyShare,
    publicKey: made.message.publicKey,
    verificationKey,
    confirm: env,
  };
  writeTrusteeFile(o.trustee, tf);
  writeMessage(o.out, env, o.trustee);
  say(`every share sent to ${tf.id} checks against its sender's commitments; key share kept in ${o.trustee}`);
  say(`election key ${made.message.publicKey}`);
  say(`  compare it with the other trustees and the official, by a channel the server does not carry`);
  say(`your verification key ${verificationKey}`);
  say(`keygen-confirm written to ${o.out}; next: ${postHint(o.out, e)}`);
}

/** The aggregate (the body of `GET …/aggregate`), checked against the election and the key this trustee made. */
function readAggregate(path: string, e: ElectionInput, held: TrusteeElection): Aggregate {
  const a = readJson(path, '--aggregate');
  const where = `--aggregate ${path}`;
  const keys = ['version', 'electionId', 'manifestHash', 'publicKey', 'totalBallots', 'contests'];
  if (!isObject(a) || Object.keys(a).length !== keys.length || !keys.every((k) => Object.hasOwn(a, k)))
    throw new CliError(
      `${where} must be the aggregate, the body of GET …/aggregate (\`tallyproof trustee fetch --aggregate\`), ` +
        `with exactly the keys ${keys.join(', ')}`,
    );
  if (a.version !== 2 || a.electionId !== e.manifest.electionId || a.manifestHash !== e.manifestHash)
    throw new CliError(`${where} is not an aggregate of ${e.manifest.electionId} (manifest ${e.manifestHash})`);
  if (a.publicKey !== held.publicKey)
    throw new CliError(
      `${where} is an aggregate under the key ${String(a.publicKey)}, not the election key you confirmed ` +
        `(${held.publicKey}): do not decrypt it`,
    );
  if (!Number.isSafeInteger(a.totalBallots) || (a.totalBallots as number) < 0)
    throw new CliError(`${where}: totalBallots must be a non-negative integer`);
  if (a.totalBallots === 0)
    throw new CliError(
      `${where} holds no ballot: there is nothing to decrypt (every count is 0, published without the trustees)`,
    );
  const contests = a.contests;
  for (const c of e.manifest.contests)
    for (const k of c.choices) {
      const ct =
        isObject(contests) && isObject(contests[c.id]) ? (contests[c.id] as Record<string, unknown>)[k.id] : null;
      if (!isObject(ct) || !elementFromHex(ct.alpha) || !elementFromHex(ct.beta))
        throw new CliError(`${where}: contest ${c.id}, choice ${k.id} is not a ciphertext of group elements`);
    }
  return a as unknown as Aggregate;
}

export function decryptStep(o: {
  trustee: string;
  election: string;
  aggregate: string;
  out: string;
  force?: boolean;
}): void {
  const { tf, e, held } = loadStep(o, 'decrypt');
  if (!held.keyShare || !held.verificationKey)
    throw new CliError(`${o.trustee} holds no key share of ${held.electionId}: its key generation was not confirmed`);
  const keyShare = scalarFromHex(held.keyShare);
  const verificationKey = elementFromHex(held.verificationKey);
  if (keyShare === null || !verificationKey || !mulBase(keyShare).equals(verificationKey))
    throw new CliError(`${o.trustee}: the key share does not match its verification key (the file is damaged)`);
  const aggregate = readAggregate(o.aggregate, e, held);
  const aggregateHash = aggregateHashOf(aggregate);
  if (held.decrypt) {
    if (held.decrypt.message.aggregateHash === aggregateHash && !o.force) {
      writeAgain(o.out, held.decrypt, o.trustee, false);
      return;
    }
    if (held.decrypt.message.aggregateHash !== aggregateHash && !o.force)
      throw new CliError(
        `${o.trustee} already decrypted another aggregate of ${held.electionId} (aggregateHash ` +
          `${held.decrypt.message.aggregateHash}, not ${aggregateHash}). Decrypting two different aggregates can ` +
          'reveal ballots (by their difference): only if the first was wrong and never posted, run again with --force',
      );
  }
  say(`decrypting the aggregate of ${aggregate.totalBallots} ballots (aggregateHash ${aggregateHash})`);
  const message = makeDecryptShare(e.manifest, e.manifestHash, tf.id, held.keyShare, aggregate);
  // The proofs checked as the board will check them, before anything is written.
  for (const c of e.manifest.contests)
    for (const k of c.choices) {
      const s = message.shares[c.id]![k.id]!;
      const ctx = { electionId: e.manifest.electionId, manifestHash: e.manifestHash, aggregateHash, trustee: tf.id };
      const ok = verifyDecryptShare(
        { ...ctx, contest: c.id, choice: k.id },
        elementFromHex(aggregate.contests[c.id]![k.id]!.alpha)!,
        Buffer.from(s.share, 'hex'),
        verificationKey,
        { c: scalarFromHex(s.proof.c)!, s: scalarFromHex(s.proof.s)! },
      );
      if (!ok) throw new Error(`contest ${c.id}, choice ${k.id}: the partial decryption's proof does not verify`);
    }
  const env = signTrusteeMessage(seedOf(tf), message);
  tf.election = { ...held, decrypt: env };
  writeTrusteeFile(o.trustee, tf);
  writeMessage(o.out, env, o.trustee);
  say(`partial decryption of ${tf.id} written to ${o.out}; next: ${postHint(o.out, e)}`);
}

// ---- The network: post and fetch ----

const HINTS: Record<string, string> = {
  'ceremony-phase':
    'every trustee must post the previous step first: `trustee fetch --transcript` shows who is missing; ' +
    'post again later',
  'trustee-message-exists':
    'the board already holds another message of this kind from this trustee, and keeps the first: ' +
    '`trustee fetch --transcript` shows it',
  'invalid-proof':
    'a proof does not verify: for a decrypt, is it the aggregate the board published (`trustee fetch --aggregate`) ' +
    'and the right trustee file?',
  'bad-signature': 'it is not signed with the key the manifest lists for this trustee',
};

export async function postStep(
  http: Http,
  errorText: (body: unknown) => string,
  o: { api: string; election?: string; file: string; token: string },
): Promise<void> {
  const env = readJson(o.file, 'message file');
  const shape = trusteeEnvelopeShapeProblem(env);
  if (shape) throw new CliError(`${o.file} is not a signed trustee message: ${shape}`);
  const { message } = env as TrusteeEnvelope;
  if (o.election !== undefined && message.electionId !== o.election)
    throw new CliError(`${o.file} is a message for election ${message.electionId}, not ${o.election}`);
  const r = await http(o.api, `/api/v1/elections/${encodeURIComponent(message.electionId)}/trustee-messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
    body: JSON.stringify(env),
  });
  if (r.status === 201) {
    say(`posted: ${message.kind} of ${message.trustee}; key ceremony ${r.body?.keyCeremony ?? 'unknown'}`);
    return;
  }
  if (r.status === 200) {
    say(`already on the board: ${message.kind} of ${message.trustee}, the same message; nothing changed`);
    return;
  }
  const hint = HINTS[String(r.body?.error?.code)];
  throw new CliError(`refused (${r.status}) ${errorText(r.body)}${hint ? `\n  ${hint}` : ''}`);
}

export type FetchWhat = 'transcript' | 'aggregate' | 'election-view' | 'decryption';

export async function fetchStep(
  http: Http,
  errorText: (body: unknown) => string,
  o: { api: string; election: string; what: FetchWhat; out: string },
): Promise<void> {
  const base = `/api/v1/elections/${encodeURIComponent(o.election)}`;
  const path = {
    transcript: '/trustee-messages',
    aggregate: '/aggregate',
    'election-view': '',
    decryption: '/decryption',
  };
  const r = await http(o.api, `${base}${path[o.what]}`);
  if (r.status !== 200) {
    const code = r.body?.error?.code;
    const hint =
      code === 'not-closed'
        ? '\n  the aggregate is published when the election closes'
        : code === 'not-decrypted'
          ? '\n  fewer than threshold trustees have posted a valid partial decryption yet'
          : '';
    throw new CliError(`GET ${base}${path[o.what]}: ${r.status} ${errorText(r.body)}${hint}`);
  }
  if (o.what === 'election-view') electionFromView(r.body, `the election ${o.election} the API serves`);
  try {
    writeFileSync(o.out, `${JSON.stringify(r.body, null, 2)}\n`);
  } catch (err) {
    throw new CliError(`--out ${o.out}: ${(err as Error).message}`);
  }
  say(`${o.what} of ${o.election} written to ${o.out}`);
  for (const line of fetchSummary(o.what, r.body)) say(`  ${line}`);
}

/** What the official and the trustees look at in what they fetched. */
function fetchSummary(what: FetchWhat, body: any): string[] {
  if (what === 'aggregate')
    return [`${body.totalBallots} ballots; aggregateHash ${aggregateHashOf(body as Aggregate)}`];
  if (what === 'decryption') return [`decrypted by ${(body.trustees ?? []).join(', ')}: ${JSON.stringify(body.tally)}`];
  if (what === 'election-view') {
    const enc = body.encryption ?? {};
    return [
      `manifestHash ${body.manifestHash}; status ${body.status}; key ceremony ${enc.keyCeremony ?? 'unknown'}`,
      `election key ${enc.publicKey ?? 'none yet'}`,
    ];
  }
  const messages: TrusteeEnvelope[] = Array.isArray(body.messages) ? body.messages : [];
  const trustees: string[] = (body.trustees ?? []).map((t: { id: string }) => t.id);
  const lines = [`key ceremony ${body.keyCeremony}; threshold ${body.threshold} of ${trustees.length}`];
  for (const kind of ['keygen-commit', 'keygen-shares', 'keygen-confirm', 'decrypt'] as const) {
    const posted = new Set(messages.filter((m) => m.message?.kind === kind).map((m) => m.message.trustee));
    const waiting = trustees.filter((t) => !posted.has(t));
    lines.push(
      `${kind}: ${posted.size}/${trustees.length}` +
        (posted.size > 0 && waiting.length > 0 ? ` (not yet: ${waiting.join(', ')})` : ''),
    );
  }
  if (body.publicKey) lines.push(`election key ${body.publicKey}`);
  for (const r of body.refused ?? [])
    lines.push(`refused: ${r.kind} of ${r.trustee} at ${r.receivedAt}: ${r.code}: ${r.message}`);
  return lines;
}
