// `receipt --tiles`: a voter's check from the receipt, the window's tiles and the chain; no proof bundle is asked
// for. Steps:
//   1. the receipt file (its seq, and shard, say where the ballot is: a ballot hash alone does not);
//   2. the manifest (--manifest FILE, else GET …/elections/{id} with --api, else the tiles source's election.json
//      or the API route at its base): H(JCS(manifest)) = the chain's manifestHash; its ledgerKey signs the receipt;
//   3. the window holding the seq, from the chain: with one shard getWindow, searched by firstSeq (windowCount,
//      then O(log n) reads); with several, the anchor interval whose records name the receipt's shard window,
//      the records (from --api or the tiles source: not trusted) checked against the interval's root read from
//      the chain (getInterval). In no anchored window: not anchored yet, or overdue once the promise has passed;
//   4. the inclusion proof computed from the window's tiles (tiles.ts, TiledTree: at most two tiles per level):
//      the level-0 tile's leaf is H(0x00 || ballotHash), and the path leads from the ballot to the window's root
//      read from the chain, by this tool's RFC 9162 code and by the contract's verifyInclusion; with several
//      shards the window's record then leads to the interval root, checked by verifyIntervalInclusion too.
// A tile that is not there is an InputError (exit 2: nothing to compute a proof from); tiles that are there but
// wrong are findings that say whether the tiles or the anchored window disagree with the receipt.
import { range } from '../audit/seq.js';
import { ChainReader, type ChainWindow } from '../chain.js';
import { checkManifestHash } from '../checks.js';
import { verifyStrict } from '../ed25519.js';
import { finding, InputError, type Finding } from '../errors.js';
import { bytesEqual, fromHex, short, toHex } from '../hex.js';
import { inclusionPath, leafHash, rootFromInclusionProof, rootFromLeafHash } from '../merkle.js';
import { counted } from '../plural.js';
import {
  ANCHOR_GRACE_SECONDS,
  isPlainObject,
  manifestHash,
  manifestProblem,
  receiptMessage,
  shardCount,
  type Manifest,
  type Receipt,
} from '../protocol.js';
import { intervalRoot, servedInterval, windowRecordBytes, type WindowRecord } from '../shards.js';
import { ApiSource } from '../sources/api.js';
import { apiBase, getJson } from '../sources/http.js';
import { parseJson, readText } from '../sources/source.js';
import { openTileSource, type TileSource } from '../sources/tiles.js';
import { formatTilePath, TiledTree, TileError, tileWidth, type TileReader } from '../tiles.js';
import { notAnchored, readReceiptInput, settle, type ReceiptReport } from './receipt.js';
import { receiptShardProblem, seqText } from './receipt-interval.js';

export interface TilesReceiptOptions {
  /** The receipt file (a receipt, or the {"receipt":…} reply of the ballot POST). */
  input: string;
  /** A directory or an http(s) base of the tiles (…/api/v1/elections/ or a mirror). */
  tiles: string;
  rpcUrl: string;
  /** The contract to read; when absent, the one the election document names (reported as such). */
  contract?: string;
  /** The manifest, or a saved GET …/elections/{id} answer. */
  manifest?: string;
  /** The server, for the election document and (several shards) the intervals' records. */
  api?: string;
  now?: () => number;
}

/** The window a receipt's seq is in, as far as the chain establishes it. */
interface LocatedWindow {
  index: number;
  firstSeq: number;
  count: number;
  root: string;
}

export async function runReceiptFromTiles(opts: TilesReceiptOptions): Promise<ReceiptReport> {
  const now = opts.now ?? Date.now;
  const { ballotHash, held } = await readReceiptInput(opts.input);
  if (held === undefined)
    throw new InputError(
      'with --tiles, give the receipt file: its seq (and shard) say where the ballot is, a ballot hash alone does not',
    );
  const tiles = openTileSource(opts.tiles);
  const electionId = held.electionId;
  const out: ReceiptReport = {
    tool: 'tallyproof-verify receipt',
    verdict: 'invalid',
    ballotHash,
    electionId,
    ...(held.shard === undefined ? {} : { shard: held.shard }),
    seq: held.seq,
    proofFrom: 'tiles',
    tiles: tiles.description,
    passed: [],
    findings: [],
  };
  const fail = (f: Finding): ReceiptReport => {
    out.findings.push(f);
    return settle(out);
  };

  // Step 2: the manifest and the chain's registration.
  const document = await electionDocument(opts, tiles, electionId);
  const manifestValue = isPlainObject(document) && Object.hasOwn(document, 'manifest') ? document.manifest : document;
  const problem = manifestProblem(manifestValue);
  if (problem !== null) return fail(finding('manifest-invalid', problem));
  const manifest = manifestValue as Manifest;
  if (manifest.electionId !== electionId)
    return fail(finding('manifest-invalid', `the manifest is for election ${manifest.electionId}, not ${electionId}`));
  const named = isPlainObject(document) && typeof document.contract === 'string' ? document.contract : undefined;
  const contract = opts.contract ?? named;
  if (contract === undefined)
    throw new InputError('no --contract given and the election document names none: pass --contract');
  const chain = await ChainReader.connect(opts.rpcUrl, contract);
  try {
    const contractFrom = opts.contract !== undefined ? 'argument' : 'server';
    out.chain = { rpcUrl: opts.rpcUrl, chainId: chain.chainId, contract: chain.address, contractFrom };
    const registration = await chain.election(electionId);
    if (registration === null)
      return fail(
        finding(
          'not-registered',
          `election ${electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`,
        ),
      );
    const manifestFindings = checkManifestHash(manifestValue, registration);
    out.findings.push(...manifestFindings);
    if (manifestFindings.length === 0)
      out.passed.push(
        `manifest hash ${short(toHex(manifestHash(manifestValue)))} is the one registered on chain ${chain.chainId}`,
      );

    // Step 1 and 3 of the receipt itself: signed by the ledger key, naming a shard exactly when there are several.
    const at = seqText(held);
    if (verifyStrict(fromHex(manifest.ledgerKey), receiptMessage(held), fromHex(held.signature)) !== null)
      out.findings.push(
        finding(
          'bad-receipt-signature',
          `the receipt you hold (${at}) is not signed by the election's ledger key ${short(manifest.ledgerKey)}`,
          { shard: held.shard, seq: held.seq },
        ),
      );
    else out.passed.push(`your receipt (${at}) is signed by the ledger key ${short(manifest.ledgerKey)}`);
    const shards = shardCount(manifest);
    const shardProblem = receiptShardProblem(held, shards);
    if (shardProblem !== null)
      return fail(finding('receipt-mismatch', shardProblem, { shard: held.shard, seq: held.seq }));

    // Steps 3 and 4.
    if (shards === 1) await checkWindowReceipt(out, held, manifest, chain, tiles, now());
    else await checkIntervalReceipt(out, held, manifest, chain, tiles, opts, now());
    return settle(out);
  } finally {
    chain.close();
  }
}

/** --manifest FILE, else the API's GET …/elections/{id}, else what the tiles source keeps beside the tiles. */
async function electionDocument(opts: TilesReceiptOptions, tiles: TileSource, electionId: string): Promise<unknown> {
  if (opts.manifest !== undefined)
    return parseJson(await readText(opts.manifest, 'manifest'), `manifest file ${opts.manifest}`);
  if (opts.api !== undefined) return getJson(`${apiBase(opts.api)}/api/v1/elections/${encodeURIComponent(electionId)}`);
  const document = await tiles.election(electionId);
  if (document === null)
    throw new InputError(
      `no manifest of election ${electionId} in ${tiles.description} (\`tiles save\` keeps it as ` +
        `${electionId}/election.json): give --manifest FILE or --api URL`,
    );
  return document;
}

/** One shard: the window from the chain (getWindow searched by firstSeq), the proof from its tiles. */
async function checkWindowReceipt(
  out: ReceiptReport,
  receipt: Receipt,
  manifest: Manifest,
  chain: ChainReader,
  tiles: TileSource,
  nowMs: number,
): Promise<void> {
  const electionId = receipt.electionId;
  const w = await windowOfSeq(chain, electionId, receipt.seq);
  if (w === undefined) {
    out.findings.push(notAnchored(receipt, manifest, nowMs, 'is in no window anchored on chain'));
    return;
  }
  out.window = w;
  const proof = await proofFromTiles(out, receipt, w, tiles);
  if (proof === null) return;
  const where = { seq: receipt.seq, window: w.index };
  const contractOk = await chain.verifyInclusion(electionId, w.index, proof.leafIndex, receipt.ballotHash, proof.path);
  if (!contractOk)
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `seq ${receipt.seq}: the contract's verifyInclusion rejects the proof computed from the tiles for window ` +
          `${w.index}`,
        where,
      ),
    );
  if (proof.ok && contractOk)
    out.passed.push(
      `ballot ${short(receipt.ballotHash)} is leaf ${proof.leafIndex} of window ${w.index} ` +
        `(${range(w.firstSeq, w.firstSeq + w.count - 1)}), root ${short(w.root)} on chain: the path computed ` +
        `from the tiles in ${tiles.where(electionId, w.index)}, checked by this tool and by the contract`,
    );
  lateAnchor(out, receipt, manifest, w.anchoredAt, `window ${w.index}`, where);
}

/** The chain's window holding `seq`: windowCount, then getWindow by binary search on firstSeq. */
async function windowOfSeq(chain: ChainReader, electionId: string, seq: number): Promise<ChainWindow | undefined> {
  let lo = 0;
  let hi = (await chain.windowCount(electionId)) - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const w = await chain.window(electionId, mid);
    if (seq < w.firstSeq) hi = mid - 1;
    else if (seq >= w.firstSeq + w.count) lo = mid + 1;
    else return w;
  }
  return undefined;
}

/**
 * Several shards: the interval whose records name the receipt's shard window (records from --api or the tiles
 * source), those records against the interval's root on chain, then both levels of the proof.
 */
async function checkIntervalReceipt(
  out: ReceiptReport,
  receipt: Receipt,
  manifest: Manifest,
  chain: ChainReader,
  tiles: TileSource,
  opts: TilesReceiptOptions,
  nowMs: number,
): Promise<void> {
  const electionId = receipt.electionId;
  const shard = receipt.shard!;
  const shards = shardCount(manifest);
  const at = seqText(receipt);
  const served =
    opts.api !== undefined ? await new ApiSource(opts.api, electionId).intervals() : await tiles.intervals(electionId);
  if (served === null)
    throw new InputError(
      `election ${electionId} has ${shards} shards: its anchor intervals' records are needed to find the window of ` +
        `${at} (--api URL, or a tiles source with ${electionId}/intervals.json, which \`tiles save\` writes)`,
    );
  // The first listed interval with a record of the receipt's shard window; nothing it says is taken until its
  // records give the chain's root.
  let found: { index: number; records: WindowRecord[]; recordIndex: number } | undefined;
  for (const v of served) {
    const interval = servedInterval(v, shards);
    const recordIndex = (interval?.records ?? []).findIndex(
      (r) => r.shard === shard && receipt.seq >= r.firstSeq && receipt.seq < r.firstSeq + r.count,
    );
    if (interval !== null && recordIndex >= 0) {
      found = { ...interval, recordIndex };
      break;
    }
  }
  const intervals = await chain.intervalCount(electionId);
  if (found === undefined || found.index >= intervals) {
    // A record left out only makes this a not-anchored (later overdue) verdict, never a pass.
    out.findings.push(notAnchored(receipt, manifest, nowMs, 'is in no interval anchored on chain'));
    return;
  }
  const anchored = await chain.interval(electionId, found.index);
  out.interval = anchored;
  const record = found.records[found.recordIndex]!;
  const where = { shard, seq: receipt.seq, window: record.windowIndex, interval: anchored.index };
  const root = toHex(intervalRoot(found.records));
  if (found.records.length !== anchored.windowCount || root !== anchored.root) {
    out.findings.push(
      finding(
        'interval-mismatch',
        `interval ${anchored.index}: the ${counted(found.records.length, 'record')} served give the root ` +
          `${short(root)}, the chain has ${short(anchored.root)} over ${counted(anchored.windowCount, 'record')}: ` +
          `the window of ${at} cannot be established`,
        where,
      ),
    );
    return;
  }
  out.shardWindow = {
    shard,
    index: record.windowIndex,
    firstSeq: record.firstSeq,
    count: record.count,
    root: record.root,
  };
  out.recordIndex = found.recordIndex;
  const window: LocatedWindow = {
    index: record.windowIndex,
    firstSeq: record.firstSeq,
    count: record.count,
    root: record.root,
  };
  const proof = await proofFromTiles(out, receipt, window, tiles, shard);
  if (proof === null) return;
  const recordLeaves = found.records.map(windowRecordBytes);
  const intervalPath = inclusionPath(recordLeaves, found.recordIndex);
  const intervalOk =
    toHex(
      rootFromInclusionProof(recordLeaves[found.recordIndex]!, {
        leafIndex: found.recordIndex,
        treeSize: anchored.windowCount,
        auditPath: intervalPath,
      }),
    ) === anchored.root;
  const contractOk = await chain.verifyIntervalInclusion(electionId, {
    intervalIndex: anchored.index,
    recordIndex: found.recordIndex,
    shard,
    windowIndex: record.windowIndex,
    firstSeq: record.firstSeq,
    count: record.count,
    windowRoot: record.root,
    intervalProof: intervalPath.map(toHex),
    leafIndex: proof.leafIndex,
    ballotHash: receipt.ballotHash,
    windowProof: proof.path,
  });
  if (!intervalOk)
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `${at}: the record of window ${record.windowIndex} of shard ${shard} does not lead to interval ` +
          `${anchored.index}'s root on chain at record ${found.recordIndex}`,
        where,
      ),
    );
  if (!contractOk)
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `${at}: the contract's verifyIntervalInclusion rejects the proof computed from the tiles for interval ` +
          `${anchored.index}`,
        where,
      ),
    );
  if (proof.ok && intervalOk && contractOk)
    out.passed.push(
      `ballot ${short(receipt.ballotHash)} is leaf ${proof.leafIndex} of window ${record.windowIndex} of shard ` +
        `${shard} (${range(record.firstSeq, record.firstSeq + record.count - 1)}), whose record ${found.recordIndex} ` +
        `is in interval ${anchored.index}, root ${short(anchored.root)} on chain: the path computed from the tiles ` +
        `in ${tiles.where(electionId, record.windowIndex, shard)}, checked by this tool and by the contract`,
    );
  lateAnchor(out, receipt, manifest, anchored.anchoredAt, `interval ${anchored.index}`, where);
}

/**
 * Step 4's first level: the proof of leaf seq − firstSeq computed from the window's tiles, the level-0 tile's leaf
 * against H(0x00 || ballotHash), the path against the window's root. Null when the tiles are unusable (a finding
 * says why); `ok` when both checks hold.
 */
async function proofFromTiles(
  out: ReceiptReport,
  receipt: Receipt,
  w: LocatedWindow,
  tiles: TileSource,
  shard?: number,
): Promise<{ ok: boolean; leafIndex: number; path: string[] } | null> {
  const at = seqText(receipt);
  const where = { shard, seq: receipt.seq, window: w.index };
  const label = shard === undefined ? `window ${w.index}` : `window ${w.index} of shard ${shard}`;
  const place = tiles.where(receipt.electionId, w.index, shard);
  const leafIndex = receipt.seq - w.firstSeq;
  const tree = new TiledTree(w.count, presentOnly(tiles.reader(receipt.electionId, w.index, shard), place));
  let tileLeaf: Uint8Array;
  let proof: Awaited<ReturnType<TiledTree['inclusionProof']>>;
  try {
    tileLeaf = await tree.leafHash(leafIndex);
    proof = await tree.inclusionProof(leafIndex);
  } catch (err) {
    if (!(err instanceof TileError)) throw err;
    out.findings.push(
      finding(
        'inclusion-proof-invalid',
        `${at}: the tiles of ${label} in ${place} are unusable: ${err.message}`,
        where,
      ),
    );
    return null;
  }
  const ballotLeaf = leafHash(fromHex(receipt.ballotHash));
  const root = fromHex(w.root);
  const ownOk = bytesEqual(rootFromInclusionProof(fromHex(receipt.ballotHash), proof), root);
  const leafOk = bytesEqual(tileLeaf, ballotLeaf);
  const tile = formatTilePath({
    level: 0,
    index: Math.floor(leafIndex / 256),
    width: tileWidth(w.count, 0, Math.floor(leafIndex / 256)),
  });
  const fail = (message: string): void => {
    out.findings.push(finding('inclusion-proof-invalid', `${at}: ${message}`, where));
  };
  if (!leafOk) {
    const leaf = `${tile} holds leaf hash ${toHex(tileLeaf)} at leaf ${leafIndex}, not H(0x00 || ballot hash) = ${toHex(ballotLeaf)}`;
    if (ownOk)
      fail(
        `${leaf}, yet the other tiles lead from your ballot to ${label}'s root on chain: that tile in ${place} is ` +
          `not the anchored window's`,
      );
    else if (bytesEqual(rootFromLeafHash(tileLeaf, proof), root))
      fail(
        `the anchored ${label} holds another ballot at this seq: ${leaf}, and the tiles in ${place} lead from it ` +
          `to the root on chain (${short(w.root)})`,
      );
    else
      fail(
        `the tiles of ${label} in ${place} do not lead to its root on chain (${short(w.root)}): they are not the ` +
          `anchored window's tiles (${leaf})`,
      );
  } else if (!ownOk) {
    fail(
      `the tiles of ${label} in ${place} do not lead from your ballot to its root on chain (${short(w.root)}): a tile ` +
        'on its path is not the anchored window’s',
    );
  } else {
    out.passed.push(`${tile} of ${label} holds H(0x00 || ballot hash) at leaf ${leafIndex} (seq ${receipt.seq})`);
  }
  out.leafIndex = leafIndex;
  return { ok: leafOk && ownOk, leafIndex, path: proof.auditPath.map(toHex) };
}

/** A reader that turns a tile that is not there into an InputError: no proof can be computed without it. */
function presentOnly(read: TileReader, place: string): TileReader {
  return async (level, index, width) => {
    const data = await read(level, index, width);
    if (data === undefined)
      throw new InputError(
        `${place}/${formatTilePath({ level, index, width })} is not there: the tiles of this window are not ` +
          'served or were not saved, so no proof can be computed from them',
      );
    return data;
  };
}

/** A warning when the anchor (at `anchoredAt`, chain seconds) came after the receipt's promise. */
function lateAnchor(
  out: ReceiptReport,
  receipt: Receipt,
  manifest: Manifest,
  anchoredAt: number,
  what: string,
  where: { shard?: number; seq: number; window: number; interval?: number },
): void {
  const promisedBy = Date.parse(receipt.receivedAt) + (manifest.windowSeconds + ANCHOR_GRACE_SECONDS) * 1000;
  if (anchoredAt * 1000 > promisedBy + 1000)
    out.findings.push(
      finding(
        'late-anchor',
        `${what} was anchored at ${new Date(anchoredAt * 1000).toISOString()}, after the receipt's promise ` +
          `(${new Date(promisedBy).toISOString()})`,
        where,
        'warning',
      ),
    );
}
