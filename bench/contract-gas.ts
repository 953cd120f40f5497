// Gas used by TallyAnchor on a local anvil chain: registerElection, anchorWindow (first and later
// windows, 1 vs 1,000,000 ballots), anchorInterval (first and later intervals), closeElection,
// verifyInclusion for proof lengths 1..20, verifyIntervalInclusion for a few (interval, window) depths,
// and the anchoring gas per minute for S = 1, 16, 256 shards: S anchorWindow transactions (one per
// shard window) against one anchorInterval.
//   npx tsx bench/contract-gas.ts
// Prints a table and writes bench/results/contract-gas.json. Figures only; nothing is asserted.
//
// "total" is the transaction's gasUsed (or eth_estimateGas for the view), which includes the
// 21,000 intrinsic gas and the calldata cost (EIP-2028: 4 per zero byte, 16 per non-zero byte);
// "execution" is total - 21,000 - calldata, i.e. what the contract code itself costs.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Wallet, getBytes, type TransactionReceipt } from 'ethers';
import { anvilProvider, startAnvil } from '../contracts/local-chain.js';
import {
  TALLY_ANCHOR_INTERFACE,
  TALLY_ANCHOR_SOLC_VERSION,
  deployTallyAnchor,
  electionKey,
  tallyAnchor,
} from '../contracts/index.js';

const INTRINSIC_GAS = 21_000n;
const ANCHOR_TARGET = 60_000n;
const MAX_PROOF_LENGTH = 20;
/** (interval tree depth, window tree depth) for verifyIntervalInclusion: 1 record and 1 ballot, then S = 16,
 * 256, 1024 shard windows of 2^10, 2^16, 2^20 ballots. */
const INTERVAL_PROOF_DEPTHS: [intervalDepth: number, windowDepth: number][] = [
  [0, 0],
  [4, 10],
  [8, 16],
  [10, 20],
];
const SHARD_COUNTS = [1, 16, 256];
/** The default window (and anchor interval): 60 s, so one window per shard per minute. */
const WINDOW_SECONDS = 60;
/** Ballots per shard window in the per-minute comparison; only the calldata depends on it. */
const BALLOTS_PER_SHARD_WINDOW = 1_000;
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

function calldataGas(data: string): bigint {
  let gas = 0n;
  for (const byte of getBytes(data)) gas += byte === 0 ? 4n : 16n;
  return gas;
}

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const bytes32 = (label: string): string => `0x${sha256(Buffer.from(label)).toString('hex')}`;

interface TxRow {
  operation: string;
  total: number;
  calldata: number;
  execution: number;
}

const chain = await startAnvil();
const provider = anvilProvider(chain);
try {
  const nodeInfo = (await provider.send('anvil_nodeInfo', [])) as { hardFork?: string };
  const clientVersion = (await provider.send('web3_clientVersion', [])) as string;
  const owner = new Wallet(chain.accounts[0]!.privateKey, provider);
  const deployment = await deployTallyAnchor(owner);
  const anchor = tallyAnchor(deployment.address, owner);
  const deployReceipt = await provider.getTransactionReceipt(deployment.txHash);

  const rows: TxRow[] = [];
  const record = async (
    operation: string,
    sent: Promise<{ wait(): Promise<TransactionReceipt | null>; data: string }>,
  ): Promise<void> => {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) throw new Error(`${operation} failed`);
    const calldata = calldataGas(tx.data);
    rows.push({
      operation,
      total: Number(receipt.gasUsed),
      calldata: Number(calldata),
      execution: Number(receipt.gasUsed - INTRINSIC_GAS - calldata),
    });
    log(`${operation}: ${receipt.gasUsed}`);
  };

  // Two elections: windows of 1 ballot and windows of 1,000,000 ballots.
  const small = electionKey('bench-small-windows');
  const large = electionKey('bench-large-windows');
  await record('registerElection', anchor.registerElection(small, bytes32('manifest small'), bytes32('roll small')));
  await record(
    'registerElection (2nd election)',
    anchor.registerElection(large, bytes32('manifest large'), bytes32('roll large')),
  );
  await record('anchorWindow #0, 1 ballot', anchor.anchorWindow(small, 0, 0, 1, bytes32('small 0')));
  await record('anchorWindow #1, 1 ballot', anchor.anchorWindow(small, 1, 1, 1, bytes32('small 1')));
  await record('anchorWindow #0, 1,000,000 ballots', anchor.anchorWindow(large, 0, 0, 1_000_000, bytes32('large 0')));
  await record(
    'anchorWindow #1, 1,000,000 ballots',
    anchor.anchorWindow(large, 1, 1_000_000, 1_000_000, bytes32('large 1')),
  );
  for (let w = 2; w < 100; w++)
    await anchor.anchorWindow(small, w, w, 1, bytes32(`small ${w}`)).then((tx) => tx.wait());
  await record('anchorWindow #100, 1 ballot', anchor.anchorWindow(small, 100, 100, 1, bytes32('small 100')));
  // anchorInterval (sharded elections): intervals #0 (the first), #1 and #100.
  const sharded = electionKey('bench-intervals');
  await anchor.registerElection(sharded, bytes32('manifest sharded'), bytes32('roll sharded')).then((tx) => tx.wait());
  await record('anchorInterval #0, 16 windows', anchor.anchorInterval(sharded, 0, 16, 16_000, bytes32('interval 0')));
  await record(
    'anchorInterval #1, 256 windows',
    anchor.anchorInterval(sharded, 1, 256, 256_000, bytes32('interval 1')),
  );
  for (let i = 2; i < 100; i++)
    await anchor.anchorInterval(sharded, i, 16, 16_000, bytes32(`interval ${i}`)).then((tx) => tx.wait());
  await record(
    'anchorInterval #100, 16 windows',
    anchor.anchorInterval(sharded, 100, 16, 16_000, bytes32('interval 100')),
  );
  await record('closeElection (101 ballots)', anchor.closeElection(small, bytes32('result small'), 101));
  await record('closeElection (2,000,000 ballots)', anchor.closeElection(large, bytes32('result large'), 2_000_000));

  // verifyInclusion: window w holds 2^(w+1) ballots, so the last leaf's audit path has w+1 hashes.
  // Any sibling hashes form the path of some tree of that size; the root is computed from them.
  const proofs = electionKey('bench-proofs');
  await anchor.registerElection(proofs, bytes32('manifest proofs'), bytes32('roll proofs')).then((tx) => tx.wait());
  const inclusion: {
    proofLength: number;
    windowSize: number;
    estimateGas: number;
    calldata: number;
    execution: number;
  }[] = [];
  let firstSeq = 0n;
  for (let length = 1; length <= MAX_PROOF_LENGTH; length++) {
    const size = 2n ** BigInt(length);
    const ballotHash = sha256(Buffer.from(`ballot ${length}`));
    const siblings = Array.from({ length }, (_, i) => sha256(Buffer.from(`sibling ${length} ${i}`)));
    // The last leaf of a perfect tree is a right child at every level.
    let root = sha256(Buffer.from([0]), ballotHash);
    for (const sibling of siblings) root = sha256(Buffer.from([1]), sibling, root);
    const windowIndex = length - 1;
    await anchor.anchorWindow(proofs, windowIndex, firstSeq, size, `0x${root.toString('hex')}`).then((tx) => tx.wait());
    firstSeq += size;

    const args = [
      proofs,
      windowIndex,
      size - 1n,
      `0x${ballotHash.toString('hex')}`,
      siblings.map((s) => `0x${s.toString('hex')}`),
    ] as const;
    if (!(await anchor.verifyInclusion(...args))) throw new Error(`proof of length ${length} did not verify`);
    const estimate = await anchor.verifyInclusion.estimateGas(...args);
    const calldata = calldataGas(TALLY_ANCHOR_INTERFACE.encodeFunctionData('verifyInclusion', [...args]));
    inclusion.push({
      proofLength: length,
      windowSize: Number(size),
      estimateGas: Number(estimate),
      calldata: Number(calldata),
      execution: Number(estimate - INTRINSIC_GAS - calldata),
    });
  }

  // verifyIntervalInclusion: the last ballot of a perfect window of 2^windowDepth ballots, whose record is
  // the last of a perfect interval tree of 2^intervalDepth records; random siblings, roots computed from them.
  const intervalProofs = electionKey('bench-interval-proofs');
  await anchor
    .registerElection(intervalProofs, bytes32('manifest interval proofs'), bytes32('roll interval proofs'))
    .then((tx) => tx.wait());
  const intervalInclusion: {
    intervalProofLength: number;
    windowProofLength: number;
    records: number;
    windowSize: number;
    estimateGas: number;
    calldata: number;
    execution: number;
  }[] = [];
  for (const [intervalIndex, [intervalDepth, windowDepth]] of INTERVAL_PROOF_DEPTHS.entries()) {
    const records = 2n ** BigInt(intervalDepth);
    const windowSize = 2n ** BigInt(windowDepth);
    const label = `${intervalDepth} ${windowDepth}`;
    const ballotHash = sha256(Buffer.from(`interval ballot ${label}`));
    const windowSiblings = Array.from({ length: windowDepth }, (_, i) => sha256(Buffer.from(`window ${label} ${i}`)));
    let windowRoot = sha256(Buffer.from([0]), ballotHash);
    for (const sibling of windowSiblings) windowRoot = sha256(Buffer.from([1]), sibling, windowRoot);
    const shard = 1023;
    const windowIndex = 1_440n; // a day of 60 s windows
    const firstSeq = 1_440n * windowSize;
    const record = Buffer.alloc(60);
    record.writeUInt32BE(shard, 0);
    record.writeBigUInt64BE(windowIndex, 4);
    record.writeBigUInt64BE(firstSeq, 12);
    record.writeBigUInt64BE(windowSize, 20);
    windowRoot.copy(record, 28);
    const recordSiblings = Array.from({ length: intervalDepth }, (_, i) =>
      sha256(Buffer.from(`interval ${label} ${i}`)),
    );
    let intervalRoot = sha256(Buffer.from([0]), record);
    for (const sibling of recordSiblings) intervalRoot = sha256(Buffer.from([1]), sibling, intervalRoot);
    await anchor
      .anchorInterval(intervalProofs, intervalIndex, records, records * windowSize, `0x${intervalRoot.toString('hex')}`)
      .then((tx) => tx.wait());

    const toHex = (b: Buffer): string => `0x${b.toString('hex')}`;
    const args = [
      intervalProofs,
      intervalIndex,
      records - 1n,
      shard,
      windowIndex,
      firstSeq,
      windowSize,
      toHex(windowRoot),
      recordSiblings.map(toHex),
      windowSize - 1n,
      toHex(ballotHash),
      windowSiblings.map(toHex),
    ] as const;
    if (!(await anchor.verifyIntervalInclusion(...args))) throw new Error(`interval proof ${label} did not verify`);
    const estimate = await anchor.verifyIntervalInclusion.estimateGas(...args);
    const calldata = calldataGas(TALLY_ANCHOR_INTERFACE.encodeFunctionData('verifyIntervalInclusion', [...args]));
    intervalInclusion.push({
      intervalProofLength: intervalDepth,
      windowProofLength: windowDepth,
      records: Number(records),
      windowSize: Number(windowSize),
      estimateGas: Number(estimate),
      calldata: Number(calldata),
      execution: Number(estimate - INTRINSIC_GAS - calldata),
    });
  }

  // Gas per minute with S shards at the default window (one window per shard per minute), in the steady state
  // (not an election's first anchoring): S anchorWindow transactions, one per shard window (each shard its own
  // election key, as anchorWindow holds one seq range per election), against one anchorInterval of S windows.
  const gasUsed = async (sent: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<bigint> => {
    const receipt = await (await sent).wait();
    if (receipt === null || receipt.status !== 1) throw new Error('transaction failed');
    return receipt.gasUsed;
  };
  const perMinute: {
    shards: number;
    windowSeconds: number;
    ballotsPerShardWindow: number;
    anchorWindowTransactions: number;
    anchorWindowGas: number;
    anchorIntervalTransactions: number;
    anchorIntervalGas: number;
    windowsOverInterval: number;
  }[] = [];
  const b = BigInt(BALLOTS_PER_SHARD_WINDOW);
  for (const shards of SHARD_COUNTS) {
    let windowsGas = 0n;
    for (let shard = 0; shard < shards; shard++) {
      const key = electionKey(`bench-per-minute-${shards}-shard-${shard}`);
      await anchor
        .registerElection(key, bytes32(`manifest ${shards} ${shard}`), bytes32('roll'))
        .then((tx) => tx.wait());
      await anchor.anchorWindow(key, 0, 0, b, bytes32(`window 0 ${shards} ${shard}`)).then((tx) => tx.wait());
      windowsGas += await gasUsed(anchor.anchorWindow(key, 1, b, b, bytes32(`window 1 ${shards} ${shard}`)));
    }
    const key = electionKey(`bench-per-minute-${shards}-intervals`);
    const s = BigInt(shards);
    await anchor
      .registerElection(key, bytes32(`manifest ${shards} intervals`), bytes32('roll'))
      .then((tx) => tx.wait());
    await anchor.anchorInterval(key, 0, s, s * b, bytes32(`interval 0 ${shards}`)).then((tx) => tx.wait());
    const intervalGas = await gasUsed(anchor.anchorInterval(key, 1, s, s * b, bytes32(`interval 1 ${shards}`)));
    perMinute.push({
      shards,
      windowSeconds: WINDOW_SECONDS,
      ballotsPerShardWindow: BALLOTS_PER_SHARD_WINDOW,
      anchorWindowTransactions: shards,
      anchorWindowGas: Number(windowsGas),
      anchorIntervalTransactions: 1,
      anchorIntervalGas: Number(intervalGas),
      windowsOverInterval: Number(windowsGas) / Number(intervalGas),
    });
    log(`per minute, ${shards} shards: ${windowsGas} (anchorWindow) vs ${intervalGas} (anchorInterval)`);
  }

  const anchorRows = rows.filter((r) => r.operation.startsWith('anchorWindow'));
  const maxAnchorTotal = Math.max(...anchorRows.map((r) => r.total));
  const maxAnchorExecution = Math.max(...anchorRows.map((r) => r.execution));
  const hardhatConfig = readFileSync(
    fileURLToPath(new URL('../contracts/hardhat.config.cts', import.meta.url)),
    'utf8',
  );
  const setup = {
    node: clientVersion,
    hardfork: nodeInfo.hardFork ?? 'unknown',
    solc: TALLY_ANCHOR_SOLC_VERSION,
    optimizer: /runs:\s*([\d_]+)/.exec(hardhatConfig)?.[1]?.replace(/_/g, '') ?? 'see contracts/hardhat.config.cts',
    evmVersion: /evmVersion:\s*'(\w+)'/.exec(hardhatConfig)?.[1] ?? 'see contracts/hardhat.config.cts',
    deployGasUsed: deployReceipt === null ? null : Number(deployReceipt.gasUsed),
  };

  const pad = (s: string | number, n: number, right = false): string =>
    right ? String(s).padEnd(n) : String(s).padStart(n);
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const out: string[] = [];
  out.push(
    `TallyAnchor gas on ${setup.node} (hardfork ${setup.hardfork}), solc ${setup.solc}, optimizer runs ${setup.optimizer}, evm ${setup.evmVersion}`,
  );
  out.push(`deployment: ${setup.deployGasUsed === null ? '?' : fmt(setup.deployGasUsed)} gas`);
  out.push('');
  out.push(`${pad('transaction', 38, true)} ${pad('gasUsed', 9)} ${pad('calldata', 9)} ${pad('execution', 10)}`);
  for (const r of rows)
    out.push(
      `${pad(r.operation, 38, true)} ${pad(fmt(r.total), 9)} ${pad(fmt(r.calldata), 9)} ${pad(fmt(r.execution), 10)}`,
    );
  out.push('');
  out.push(
    `anchorWindow target ${fmt(Number(ANCHOR_TARGET))}: max gasUsed ${fmt(maxAnchorTotal)} (${maxAnchorTotal <= ANCHOR_TARGET ? 'met' : 'NOT met'}), max execution ${fmt(maxAnchorExecution)} (${maxAnchorExecution <= ANCHOR_TARGET ? 'met' : 'NOT met'})`,
  );
  out.push('');
  out.push(
    `${pad('verifyInclusion proof length', 29, true)} ${pad('window size', 12)} ${pad('estimateGas', 12)} ${pad('execution', 10)}`,
  );
  for (const r of inclusion)
    out.push(
      `${pad(r.proofLength, 29, true)} ${pad(fmt(r.windowSize), 12)} ${pad(fmt(r.estimateGas), 12)} ${pad(fmt(r.execution), 10)}`,
    );
  out.push('');
  out.push(
    `${pad('verifyIntervalInclusion depths', 31, true)} ${pad('records', 8)} ${pad('window size', 12)} ${pad('estimateGas', 12)} ${pad('execution', 10)}`,
  );
  for (const r of intervalInclusion)
    out.push(
      `${pad(`interval ${r.intervalProofLength} + window ${r.windowProofLength}`, 31, true)} ${pad(fmt(r.records), 8)} ${pad(fmt(r.windowSize), 12)} ${pad(fmt(r.estimateGas), 12)} ${pad(fmt(r.execution), 10)}`,
    );
  out.push('');
  out.push(`anchoring gas per minute (${WINDOW_SECONDS} s windows, one window per shard per minute, steady state)`);
  out.push(
    `${pad('shards', 7, true)} ${pad('S x anchorWindow', 17)} ${pad('1 x anchorInterval', 19)} ${pad('ratio', 7)} ${pad('per day: windows', 17)} ${pad('intervals', 12)}`,
  );
  for (const r of perMinute)
    out.push(
      `${pad(r.shards, 7, true)} ${pad(fmt(r.anchorWindowGas), 17)} ${pad(fmt(r.anchorIntervalGas), 19)} ${pad(r.windowsOverInterval.toFixed(2), 7)} ${pad(fmt(r.anchorWindowGas * 1440), 17)} ${pad(fmt(r.anchorIntervalGas * 1440), 12)}`,
    );
  console.log(out.join('\n'));

  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const result = {
    bench: 'contract-gas',
    generatedAt: new Date().toISOString(),
    setup,
    notes:
      'total = gasUsed (or eth_estimateGas); execution = total - 21000 intrinsic - calldata (4/16 gas per zero/non-zero byte)',
    transactions: rows,
    anchorWindowTarget: { target: Number(ANCHOR_TARGET), maxGasUsed: maxAnchorTotal, maxExecution: maxAnchorExecution },
    verifyInclusion: inclusion,
    verifyIntervalInclusion: intervalInclusion,
    anchoringGasPerMinute: perMinute,
  };
  writeFileSync(`${resultsDir}contract-gas.json`, `${JSON.stringify(result, null, 2)}\n`);
  log('wrote bench/results/contract-gas.json');
} finally {
  provider.destroy();
  await chain.stop();
}
