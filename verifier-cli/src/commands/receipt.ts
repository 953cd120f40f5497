// `receipt`: a voter's check that their ballot is in an anchored window. The server supplies the proof
// bundle and the manifest; the chain supplies the manifest hash and the window root. Steps:
//   1. the receipt the voter holds (if given) is a v1 receipt;
//   2. the manifest: H(JCS(manifest)) = the chain's manifestHash; its ledgerKey signs receipts;
//   3. the receipts (held and served) verify against ledgerKey and are the same receipt;
//   4. if anchored: the bundle's window is the chain's window, seq = firstSeq + leafIndex, and the
//      audit path leads from ballotHash to the chain's root (own RFC 9162 code, and the contract's
//      verifyInclusion: receipt-inclusion.ts); in an election of several shards, the receipt names its shard
//      and the proof has two levels, ballot to window root to the interval root on chain (receipt-interval.ts);
//      if pending or sealed: not anchored yet, overdue once the promise has expired.
import { readFile } from 'node:fs/promises';
import { ChainReader, type ChainInterval, type ChainWindow } from '../chain.js';
import { checkManifestHash } from '../checks.js';
import { verifyStrict } from '../ed25519.js';
import { finding, InputError, type Finding } from '../errors.js';
import { fromHex, isHex, short, toHex } from '../hex.js';
import { jcs } from '../jcs.js';
import {
  ANCHOR_GRACE_SECONDS,
  isPlainObject,
  manifestHash,
  manifestProblem,
  receiptMessage,
  receiptProblem,
  shardCount,
  type Manifest,
  type Receipt,
} from '../protocol.js';
import { apiBase, getJson } from '../sources/http.js';
import { checkInclusion } from './receipt-inclusion.js';
import { checkIntervalInclusion, receiptShardProblem, seqText } from './receipt-interval.js';

export interface ReceiptOptions {
  /** A receipt file (a receipt, or the {"receipt":…} reply of the ballot POST) or a ballot hash. */
  input: string;
  api: string;
  rpcUrl: string;
  /** The contract to read; when absent, the one the server names (reported as such). */
  contract?: string;
  now?: () => number;
}

export type ReceiptVerdict = 'anchored' | 'not-anchored' | 'invalid';

export interface ReceiptReport {
  tool: 'tallyproof-verify receipt';
  verdict: ReceiptVerdict;
  ballotHash: string;
  electionId?: string;
  /** An election of several shards: the receipt's shard (its seq is the shard's). */
  shard?: number;
  seq?: number;
  status?: string;
  window?: ChainWindow;
  /**
   * An election of several shards: the ballot's window (checked through its record in the interval) and the
   * interval read from the chain, with the record's index in it.
   */
  shardWindow?: { shard: number; index: number; firstSeq: number; count: number; root: string };
  interval?: ChainInterval;
  recordIndex?: number;
  leafIndex?: number;
  chain?: { rpcUrl: string; chainId: number; contract: string; contractFrom: 'argument' | 'server' };
  /** `receipt --tiles`: the proof was computed from the tiles at `tiles` (no proof bundle asked for). */
  proofFrom?: 'tiles';
  tiles?: string;
  /** The checks that held, in order, as sentences. */
  passed: string[];
  findings: Finding[];
}

/** Step 1: the voter's input, a receipt file or a bare ballot hash. */
export async function readReceiptInput(input: string): Promise<{ ballotHash: string; held?: Receipt }> {
  if (isHex(input, 32)) return { ballotHash: input };
  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (err) {
    throw new InputError(
      `${input} is neither a 64-hex-digit ballot hash nor a readable receipt file: ${(err as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`the receipt file ${input} is not JSON`);
  }
  const receipt = isPlainObject(value) && Object.hasOwn(value, 'receipt') ? value.receipt : value;
  const problem = receiptProblem(receipt);
  if (problem !== null) throw new InputError(`the receipt file ${input} is not a v1 receipt: ${problem}`);
  return { ballotHash: (receipt as Receipt).ballotHash, held: receipt as Receipt };
}

export async function runReceipt(opts: ReceiptOptions): Promise<ReceiptReport> {
  const now = opts.now ?? Date.now;
  const { ballotHash, held } = await readReceiptInput(opts.input);
  const out: ReceiptReport = {
    tool: 'tallyproof-verify receipt',
    verdict: 'invalid',
    ballotHash,
    passed: [],
    findings: [],
  };
  const fail = (f: Finding): ReceiptReport => {
    out.findings.push(f);
    return settle(out);
  };
  const base = apiBase(opts.api);

  const bundle = await getJson(`${base}/api/v1/receipts/${ballotHash}`, true);
  const served = isPlainObject(bundle) ? bundle.receipt : undefined;
  const electionId =
    held?.electionId ??
    (isPlainObject(served) && typeof served.electionId === 'string' ? served.electionId : undefined);
  if (electionId === undefined) {
    if (bundle === null)
      return fail(finding('missing-ballot', `the server knows no ballot with hash ${short(ballotHash)}`));
    return fail(
      finding('receipt-mismatch', `the server's proof bundle for ${short(ballotHash)} holds no readable receipt`),
    );
  }
  out.electionId = electionId;

  // Step 2: the manifest and the chain's registration.
  const election = await getJson(`${base}/api/v1/elections/${encodeURIComponent(electionId)}`);
  if (!isPlainObject(election)) throw new InputError(`GET …/elections/${electionId} did not return an object`);
  const problem = manifestProblem(election.manifest);
  if (problem !== null) return fail(finding('manifest-invalid', problem));
  const manifest = election.manifest as Manifest;
  const contractFrom = opts.contract !== undefined ? 'argument' : 'server';
  const contract = opts.contract ?? (typeof election.contract === 'string' ? election.contract : undefined);
  if (contract === undefined) throw new InputError('no --contract given and the server names none');
  const chain = await ChainReader.connect(opts.rpcUrl, contract);
  try {
    out.chain = { rpcUrl: opts.rpcUrl, chainId: chain.chainId, contract: chain.address, contractFrom };
    const registration = await chain.election(electionId);
    if (registration === null)
      return fail(
        finding(
          'not-registered',
          `election ${electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`,
        ),
      );
    const manifestFindings = checkManifestHash(election.manifest, registration);
    out.findings.push(...manifestFindings);
    if (manifestFindings.length === 0)
      out.passed.push(
        `manifest hash ${short(toHex(manifestHash(election.manifest)))} is the one registered on chain ` +
          `${chain.chainId}`,
      );

    // Step 3: the receipts.
    const ledgerKey = fromHex(manifest.ledgerKey);
    const shards = shardCount(manifest);
    if (held !== undefined) {
      if (verifyStrict(ledgerKey, receiptMessage(held), fromHex(held.signature)) !== null) {
        out.findings.push(
          finding(
            'bad-receipt-signature',
            `the receipt you hold (${seqText(held)}) is not signed by the election's ledger key ` +
              `${short(manifest.ledgerKey)}`,
            { shard: held.shard, seq: held.seq },
          ),
        );
      } else {
        out.passed.push(`your receipt (${seqText(held)}) is signed by the ledger key ${short(manifest.ledgerKey)}`);
      }
    }
    if (bundle === null) {
      const seq = held?.seq;
      return fail(
        finding(
          'missing-ballot',
          `the server answers 404 for ballot ` +
            `${short(ballotHash)}${seq === undefined ? '' : `, for which it signed a receipt at seq ${seq}`}`,
          { seq },
        ),
      );
    }
    if (!isPlainObject(bundle)) return fail(finding('receipt-mismatch', 'the proof bundle is not a JSON object'));
    const bundleProblem = receiptProblem(served);
    if (bundleProblem !== null)
      return fail(finding('receipt-mismatch', `the proof bundle's receipt is not a v1 receipt: ${bundleProblem}`));
    const receipt = served as Receipt;
    out.seq = receipt.seq;
    if (receipt.shard !== undefined) out.shard = receipt.shard;
    // A receipt names a shard exactly in an election of several shards, and one of its shards.
    const shardProblem = receiptShardProblem(receipt, shards);
    if (shardProblem !== null)
      out.findings.push(finding('receipt-mismatch', shardProblem, { shard: receipt.shard, seq: receipt.seq }));
    if (receipt.ballotHash !== ballotHash) {
      out.findings.push(
        finding(
          'receipt-mismatch',
          `the server returned the receipt of ${short(receipt.ballotHash)} when asked for ${short(ballotHash)}`,
          { seq: receipt.seq },
        ),
      );
    }
    if (held !== undefined && jcs(held) !== jcs(receipt)) {
      out.findings.push(
        finding(
          'receipt-mismatch',
          `the server's receipt (${seqText(receipt)}, receivedAt ${receipt.receivedAt}) differs from the one you ` +
            `hold (${seqText(held)}, receivedAt ${held.receivedAt})`,
          { shard: held.shard, seq: held.seq },
        ),
      );
    }
    if (receipt.electionId !== electionId) {
      out.findings.push(
        finding('receipt-mismatch', `the server's receipt is for election ${receipt.electionId}, not ${electionId}`, {
          seq: receipt.seq,
        }),
      );
    }
    if (verifyStrict(ledgerKey, receiptMessage(receipt), fromHex(receipt.signature)) !== null) {
      out.findings.push(
        finding(
          'bad-receipt-signature',
          `the server's receipt for ${seqText(receipt)} is not signed by the ledger key ${short(manifest.ledgerKey)}`,
          { shard: receipt.shard, seq: receipt.seq },
        ),
      );
    } else if (held === undefined) {
      out.passed.push(`the receipt (${seqText(receipt)}) is signed by the ledger key ${short(manifest.ledgerKey)}`);
    }

    // Step 4: anchored, or not yet.
    const status = bundle.status;
    out.status = typeof status === 'string' ? status : undefined;
    if (status !== 'anchored') {
      out.findings.push(notAnchored(receipt, manifest, now(), `is ${String(status)}`));
      return settle(out);
    }
    if (shards > 1) await checkIntervalInclusion(out, bundle, receipt, manifest, chain, electionId);
    else await checkInclusion(out, bundle, receipt, manifest, chain, electionId);
    return settle(out);
  } finally {
    chain.close();
  }
}

/**
 * A ballot not anchored (`state`: "is pending", …): a warning while the receipt's promise (receivedAt +
 * windowSeconds + 30 s) holds, `anchor-overdue` once it has passed.
 */
export function notAnchored(receipt: Receipt, manifest: Manifest, nowMs: number, state: string): Finding {
  const deadline = Date.parse(receipt.receivedAt) + (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  const where = { shard: receipt.shard, seq: receipt.seq };
  if (nowMs > deadline)
    return finding(
      'anchor-overdue',
      `${seqText(receipt)} ${state}, not anchored, although the receipt promised an anchor by ` +
        `${new Date(deadline).toISOString()}`,
      where,
    );
  return finding(
    'not-anchored',
    `${seqText(receipt)} ${state}: not anchored yet; the receipt promises it by ${new Date(deadline).toISOString()}`,
    where,
    'warning',
  );
}

/** The verdict from the findings: any error is invalid; else not-anchored if said so; else anchored. */
export function settle(out: ReceiptReport): ReceiptReport {
  if (out.findings.some((f) => f.severity === 'error')) out.verdict = 'invalid';
  else if (out.findings.some((f) => f.code === 'not-anchored')) out.verdict = 'not-anchored';
  else out.verdict = 'anchored';
  return out;
}
