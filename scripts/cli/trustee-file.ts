// The trustee's own file (`tallyproof trustee new` writes it): its Ed25519 signing seed, then the secrets each
// step of the key generation adds. It never leaves the trustee's machine. Written mode 0600 and atomically (a
// temporary file in the same directory, flushed, then renamed over it), so that a crash, a full disk or a
// second write never loses a secret already kept. Loads no curve code: the commands' help stays fast.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import { isHex } from '../../ledger/src/protocol/hash.js';
import { ID_RE } from '../../ledger/src/protocol/protocol.js';
import type {
  DecryptMessage,
  KeygenCommit,
  KeygenConfirm,
  KeygenShares,
  TrusteeEnvelope,
  TrusteeSecrets,
} from '../../ledger/src/protocol/v2/trustees.js';
import { CliError } from './selections.js';

export const TRUSTEE_FILE_KIND = 'tallyproof-trustee';
export const TRUSTEE_FILE_VERSION = 1;

/** What the file holds for the one election it takes part in (set by `commit`). */
export interface TrusteeElection {
  electionId: string;
  manifestHash: string;
  /** The polynomial and the share-decryption key: from `commit` until `confirm`, then discarded. */
  keygen: TrusteeSecrets | null;
  /** x_j, this trustee's share of the election's decryption key: from `confirm` on. */
  keyShare: string | null;
  /** H and X_j as this trustee computed them at `confirm`. */
  publicKey: string | null;
  verificationKey: string | null;
  /** Every message this trustee signed: a step run again writes the same one (the board takes a repeat). */
  commit: TrusteeEnvelope<KeygenCommit> | null;
  shares: TrusteeEnvelope<KeygenShares> | null;
  confirm: TrusteeEnvelope<KeygenConfirm> | null;
  decrypt: TrusteeEnvelope<DecryptMessage> | null;
}

export interface TrusteeFile {
  kind: typeof TRUSTEE_FILE_KIND;
  version: typeof TRUSTEE_FILE_VERSION;
  id: string;
  /** The Ed25519 public key: the manifest's `trustees[].key`. */
  key: string;
  /** The Ed25519 seed that signs this trustee's messages. */
  signingSeed: string;
  createdAt: string;
  election: TrusteeElection | null;
}

export function emptyElection(electionId: string, manifestHash: string): TrusteeElection {
  return {
    electionId,
    manifestHash,
    keygen: null,
    keyShare: null,
    publicKey: null,
    verificationKey: null,
    commit: null,
    shares: null,
    confirm: null,
    decrypt: null,
  };
}

/** A new trustee: a fresh random signing seed. */
export function newTrusteeFile(id: string): TrusteeFile {
  if (!ID_RE.test(id))
    throw new CliError(`--id ${id}: lowercase letters, digits and hyphens, 1..64, first not a hyphen`);
  const seed = randomBytes(32);
  return {
    kind: TRUSTEE_FILE_KIND,
    version: TRUSTEE_FILE_VERSION,
    id,
    key: keyPairFromSeed(seed).publicKey.toString('hex'),
    signingSeed: seed.toString('hex'),
    createdAt: new Date().toISOString(),
    election: null,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `text` is a trustee file (so that no message is ever written over one). */
export function looksLikeTrusteeFile(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return isObject(v) && v.kind === TRUSTEE_FILE_KIND;
  } catch {
    return false;
  }
}

/** Read and check a trustee file: its kind, its seed against its key, the shape of what each step stored. */
export function readTrusteeFile(path: string): TrusteeFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`--trustee ${path}: ${(err as Error).message}`);
  }
  const bad = (why: string) => new CliError(`--trustee ${path} is not a usable trustee file: ${why}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!isObject(v) || v.kind !== TRUSTEE_FILE_KIND) throw bad(`its "kind" is not "${TRUSTEE_FILE_KIND}"`);
  if (v.version !== TRUSTEE_FILE_VERSION) throw bad(`version ${String(v.version)}, this tallyproof reads version 1`);
  if (typeof v.id !== 'string' || !ID_RE.test(v.id)) throw bad('its id is malformed');
  if (!isHex(v.signingSeed, 32) || !isHex(v.key, 32)) throw bad('signingSeed and key must be 32-byte hex');
  if (keyPairFromSeed(Buffer.from(v.signingSeed, 'hex')).publicKey.toString('hex') !== v.key)
    throw bad('its key is not the public key of its signingSeed (the file was altered)');
  const e = v.election;
  if (e !== null) {
    if (!isObject(e) || typeof e.electionId !== 'string' || !isHex(e.manifestHash, 32))
      throw bad('election must be null or name an electionId and a manifestHash');
    const k = e.keygen;
    if (
      k !== null &&
      !(
        isObject(k) &&
        Array.isArray(k.coefficients) &&
        k.coefficients.every((c) => isHex(c, 32)) &&
        isHex(k.shareSecret, 32)
      )
    )
      throw bad('election.keygen must be null or {coefficients, shareSecret} of 32-byte hex');
    for (const f of ['keyShare', 'publicKey', 'verificationKey'] as const)
      if (e[f] !== null && !isHex(e[f], 32)) throw bad(`election.${f} must be null or 32-byte hex`);
    for (const f of ['commit', 'shares', 'confirm', 'decrypt'] as const)
      if (e[f] !== null && !(isObject(e[f]) && isObject(e[f].message) && typeof e[f].signature === 'string'))
        throw bad(`election.${f} must be null or a signed message`);
  }
  warnIfReadable(path);
  return v as unknown as TrusteeFile;
}

/** A trustee file others can read is told (the next write makes it 0600 again). */
function warnIfReadable(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    process.stderr.write(
      `warning: ${path} is readable by others (mode ${mode.toString(8)}); it holds secrets: chmod 600 ${path}\n`,
    );
}

/**
 * Write the trustee file atomically, mode 0600: a temporary file next to it, flushed to disk, then renamed over
 * it (or, with `create`, linked to its name, which fails if the name exists: a trustee file is never replaced
 * by a new one).
 */
export function writeTrusteeFile(path: string, file: TrusteeFile, opts: { create?: boolean } = {}): void {
  const target = resolve(path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.create) {
      try {
        linkSync(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw new CliError(`${path} exists; refusing to overwrite a trustee file`);
        throw err;
      }
      unlinkSync(tmp);
    } else {
      renameSync(tmp, target);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already renamed or linked away */
    }
    throw err;
  }
  // The rename itself reaches the disk once the directory is flushed.
  try {
    const dir = openSync(dirname(target), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* some file systems cannot fsync a directory */
  }
}
