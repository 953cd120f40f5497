// The production stack of deploy/: the compose file validates with `docker compose config` (or Debian's
// `docker-compose`), has the structure docs/operations.md promises, takes every secret from the env file;
// the QBFT generator writes a genesis Besu accepts the validators of; the contract-deploy job deploys
// and re-checks TallyAnchor on a real (anvil) chain; the monitoring config names metrics the code exports.
//
// Needs `docker compose` or `docker-compose` (no Docker daemon: `config` does not contact it). When
// neither is installed the compose tests fail with the install line; nothing is installed from here.
// Without the v2 plugin's `--format json`, the YAML output is read with python3's yaml module, a
// dependency of Debian's docker-compose package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Contract,
  JsonRpcProvider,
  Wallet,
  computeAddress,
  decodeRlp,
  getAddress,
  keccak256,
  toUtf8Bytes,
} from 'ethers';
import { startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import { decodeQbftExtraData, fillEnv, qbftExtraData } from '../scripts/generate-qbft.js';
import { setAnchorer } from '../scripts/set-anchorer.js';
import { urlUser } from '../../ledger/src/db/connect.js';
import { urlHosts } from '../../ledger/src/db/url.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = join(REPO, 'deploy');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');
const ENV_EXAMPLE = join(DEPLOY, '.env.example');
/** The replicated database (pg_auto_failover), laid over COMPOSE_FILE. */
const REPLICATED_FILE = join(DEPLOY, 'docker-compose.replicated.yml');
const INSTALL_HINT =
  'neither `docker compose` nor `docker-compose` is installed: install one to validate deploy/docker-compose.yml, ' +
  "e.g. Debian's `apt-get install -y --no-install-recommends docker-compose` (.ci/run does)";

const SECRET_NAMES = [
  'POSTGRES_PASSWORD',
  'TALLYPROOF_OWNER_DB_PASSWORD',
  'TALLYPROOF_APP_DB_PASSWORD',
  'REDIS_PASSWORD',
  'PGAF_MONITOR_PASSWORD',
  'PGAF_REPLICATION_PASSWORD',
  'GRAFANA_ADMIN_PASSWORD',
  'ADMIN_TOKEN',
  'LEDGER_KEY_SEED',
  'DEPLOYER_KEY',
  'CHAIN_PRIVATE_KEY',
];
/** Services that run once and exit; every other one is long-running. */
const ONE_SHOT = ['contract-deploy', 'migrate'];
/** The long-running processes that hold a database connection: application role only. */
const APP_SERVICES = ['api', 'worker'];

// ---- compose and YAML helpers --------------------------------------------------------------------

interface Compose {
  cmd: string;
  pre: string[];
  json: boolean;
}

/** Only PATH and HOME: compose interpolates from the process environment too, and CI sets DATABASE_URL & co. */
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };

function findCompose(): Compose | null {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', env: cleanEnv });
  if (plugin.status === 0) return { cmd: 'docker', pre: ['compose'], json: true };
  const standalone = spawnSync('docker-compose', ['version'], { encoding: 'utf8', env: cleanEnv });
  if (standalone.status === 0)
    return { cmd: 'docker-compose', pre: [], json: /v?2\.\d+/.test(standalone.stdout.split('\n')[0] ?? '') };
  return null;
}

const compose = findCompose();

function requireCompose(): Compose {
  if (compose === null) throw new Error(INSTALL_HINT);
  return compose;
}

function runCompose(envFile: string, args: string[]): SpawnSyncReturns<string> {
  const c = requireCompose();
  return spawnSync(c.cmd, [...c.pre, '-f', COMPOSE_FILE, '--env-file', envFile, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: cleanEnv,
  });
}

function yamlToJson(text: string): unknown {
  const r = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: text,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(
      `reading YAML needs python3 with its yaml module (python3-yaml, a dependency of docker-compose): ${r.stderr || r.error?.message}`,
    );
  return JSON.parse(r.stdout);
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { ipv4_address?: string } | null>;
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  ports?: unknown[];
}
interface ComposeConfig {
  services: Record<string, Service>;
  networks: Record<string, { ipam?: { config?: { subnet: string }[] } }>;
  volumes: Record<string, unknown>;
}

function composeConfig(envFile: string): ComposeConfig {
  const c = requireCompose();
  const r = runCompose(envFile, c.json ? ['config', '--format', 'json'] : ['config']);
  if (r.status !== 0) throw new Error(`compose config failed (${r.status}): ${r.stderr}`);
  return (c.json ? JSON.parse(r.stdout) : yamlToJson(r.stdout)) as ComposeConfig;
}

function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Bind mounts of a service as [host path, container path], in either output format. */
function bindMounts(s: Service): [string, string][] {
  return (s.volumes ?? []).flatMap((v): [string, string][] => {
    if (typeof v === 'string') {
      const [src, dst] = v.split(':');
      return src!.startsWith('/') ? [[src!, dst!]] : [];
    }
    return v.type === 'bind' ? [[v.source, v.target]] : [];
  });
}

function runTsx(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...cleanEnv, ...env },
  });
}

// ---- the generated network, shared by the generator and compose tests -----------------------------

let work: string;
let genDir: string;
let genEnv: string;
let generate: SpawnSyncReturns<string>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tallyproof-deploy-'));
  genDir = join(work, 'generated');
  genEnv = join(work, '.env');
  generate = runTsx(join(DEPLOY, 'scripts/generate-qbft.ts'), ['--out', genDir, '--env', genEnv], {});
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('generate-qbft.ts', () => {
  it('writes a QBFT genesis whose extraData decodes to the 4 validator addresses', () => {
    expect(generate.status, generate.stderr).toBe(0);
    const genesis = JSON.parse(readFileSync(join(genDir, 'genesis.json'), 'utf8'));
    const keys = [1, 2, 3, 4].map((n) => readFileSync(join(genDir, `validator-${n}`, 'key'), 'utf8'));
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/); // Besu's key file format: hex, no 0x, no newline
    const addresses = keys.map((k) => computeAddress(`0x${k}`));
    expect(new Set(addresses).size).toBe(4);

    // ethers' decoder: [vanity, validators, votes, round, seals]
    const decoded = decodeRlp(genesis.extraData) as [string, string[], unknown[], string, unknown[]];
    expect(decoded).toHaveLength(5);
    expect(decoded[0]).toBe(`0x${'00'.repeat(32)}`);
    expect(decoded[1].map((a) => getAddress(a))).toEqual(addresses);
    expect(decoded[2]).toEqual([]);
    expect(decoded[3]).toBe('0x');
    expect(decoded[4]).toEqual([]);
    expect(decodeQbftExtraData(genesis.extraData)).toEqual(addresses);
    for (let n = 1; n <= 4; n++) {
      expect(readFileSync(join(genDir, `validator-${n}`, 'address'), 'utf8').trim()).toBe(addresses[n - 1]);
    }

    expect(genesis.config.qbft).toMatchObject({ blockperiodseconds: 2, epochlength: 30000 });
    expect(genesis.config.chainId).toBe(1981);
    expect(genesis.config.londonBlock).toBe(0);
    expect(genesis.config.zeroBaseFee).toBe(true);
    expect(genesis.mixHash).toBe('0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365');
    expect(genesis.difficulty).toBe('0x1');
  });

  it('encodes extraData byte for byte as RLP([32 zero bytes, [validators], [], 0, []])', () => {
    const validators = [1, 2, 3, 4].map((i) => `0x${String(i).repeat(40)}`);
    // Built by hand: list header f8 7a (122 bytes), a0 + 32 zero bytes, f8 54 (84 = 4 x 21) + 94-prefixed
    // addresses, c0 (empty vote list), 80 (round 0 = empty string), c0 (empty seal list).
    const expected = `0xf87aa0${'00'.repeat(32)}f854${validators.map((a) => `94${a.slice(2)}`).join('')}c080c0`;
    expect(qbftExtraData(validators)).toBe(expected);
    expect(() => qbftExtraData([])).toThrow(/at least one validator/);
  });

  it('writes static peers at the fixed addresses and funds the deployer and the anchorer', () => {
    const network = JSON.parse(readFileSync(join(genDir, 'network.json'), 'utf8'));
    const env = readEnvFile(genEnv);
    for (let n = 1; n <= 4; n++) {
      const key = readFileSync(join(genDir, `validator-${n}`, 'key'), 'utf8');
      const pub = new Wallet(`0x${key}`).signingKey.publicKey; // 0x04 || X || Y
      expect(readFileSync(join(genDir, `validator-${n}`, 'key.pub'), 'utf8').trim()).toBe(`0x${pub.slice(4)}`);
      expect(network.validators[n - 1].enode).toBe(`enode://${pub.slice(4)}@172.30.0.${10 + n}:30303`);
      const peers = JSON.parse(readFileSync(join(genDir, `validator-${n}`, 'static-nodes.json'), 'utf8')) as string[];
      expect(peers.sort()).toEqual(
        network.validators
          .filter((_: unknown, i: number) => i !== n - 1)
          .map((v: { enode: string }) => v.enode)
          .sort(),
      );
    }
    const genesis = JSON.parse(readFileSync(join(genDir, 'genesis.json'), 'utf8'));
    const deployer = computeAddress(env.DEPLOYER_KEY!);
    const anchorer = computeAddress(env.CHAIN_PRIVATE_KEY!);
    expect(env.ANCHORER_ADDRESS).toBe(anchorer);
    expect(Object.keys(genesis.alloc).sort()).toEqual([deployer, anchorer].map((a) => a.slice(2).toLowerCase()).sort());
    for (const v of Object.values(genesis.alloc) as { balance: string }[]) expect(BigInt(v.balance) > 0n).toBe(true);
  });

  it('fills every secret of the env file and keeps it private', () => {
    const env = readEnvFile(genEnv);
    for (const name of SECRET_NAMES) {
      expect(env[name], name).toBeTruthy();
      expect(env[name], name).not.toMatch(/change-me/);
    }
    expect(Object.values(env).join('\n')).not.toMatch(/change-me/);
    expect(env.LEDGER_KEY_SEED).toMatch(/^[0-9a-f]{64}$/);
    expect(env.CHAIN_PRIVATE_KEY).toMatch(/^0x[0-9a-f]{64}$/);
    expect(env.DEPLOYER_KEY).toMatch(/^0x[0-9a-f]{64}$/);
    expect(env.ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
    expect(env.QBFT_DIR).toBe(genDir);
    expect(env.CHAIN_ID).toBe('1981');
    expect(statSync(genEnv).mode & 0o777).toBe(0o600);
    expect(statSync(genDir).mode & 0o777).toBe(0o700);
    // Every name of the template is still there (comments and optional settings kept).
    expect(Object.keys(env).sort()).toEqual(Object.keys(readEnvFile(ENV_EXAMPLE)).sort());
  });

  it('refuses to overwrite a network without --force', () => {
    const again = runTsx(
      join(DEPLOY, 'scripts/generate-qbft.ts'),
      ['--out', genDir, '--env', join(work, 'other.env')],
      {},
    );
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    expect(existsSync(join(work, 'other.env'))).toBe(false);
  });

  it('fillEnv replaces values in place and appends missing names', () => {
    expect(fillEnv('# c\nA=1\nB=2\n', { B: 'x', C: 'y' })).toBe('# c\nA=1\nB=x\n\n# Added by generate-qbft.ts\nC=y\n');
  });
});

describe('deploy/docker-compose.yml', () => {
  it('is valid for compose (config -q with the .env.example placeholders)', () => {
    const r = runCompose(ENV_EXAMPLE, ['config', '-q']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('gives every long-running service a health check and a restart policy', () => {
    const { services } = composeConfig(ENV_EXAMPLE);
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'contract-deploy',
        'grafana',
        'migrate',
        'postgres',
        'prometheus',
        'proxy',
        'redis',
        'validator-1',
        'validator-2',
        'validator-3',
        'validator-4',
        'worker',
      ].sort(),
    );
    for (const [name, s] of Object.entries(services)) {
      expect(s.restart, `${name} restart`).toBeTruthy();
      if (ONE_SHOT.includes(name)) {
        expect(s.restart, name).toBe('no');
        continue;
      }
      expect(['unless-stopped', 'always'], `${name} restart`).toContain(s.restart);
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(JSON.stringify(s.healthcheck?.test), name).not.toMatch(/NONE/);
    }
    // Start order: the app waits for healthy dependencies, finished migrations and contract deployment.
    for (const name of APP_SERVICES) {
      expect(services[name]!.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
        'contract-deploy': { condition: 'service_completed_successfully' },
      });
    }
    for (let n = 1; n <= 4; n++) {
      expect(services['contract-deploy']!.depends_on?.[`validator-${n}`]).toMatchObject({
        condition: 'service_healthy',
      });
    }
  });

  it('runs 2 API replicas behind the proxy and one worker, all from the app image', () => {
    const { services } = composeConfig(ENV_EXAMPLE);
    expect(services.api!.deploy?.replicas).toBe(2);
    expect(services.worker!.deploy?.replicas).toBe(1);
    expect(services.api!.command).toEqual([
      'sh',
      'deploy/scripts/with-deployment.sh',
      'node',
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      'api/src/server.ts',
    ]);
    expect(services.worker!.command).toEqual([
      'sh',
      'deploy/scripts/with-deployment.sh',
      'node',
      '--import',
      'tsx',
      'anchor-worker/src/main.ts',
    ]);
    expect(services['contract-deploy']!.command).toEqual([
      'node_modules/.bin/tsx',
      'deploy/scripts/deploy-contract.ts',
    ]);
    for (const name of ['api', 'worker', 'contract-deploy']) {
      expect(services[name]!.image).toBe('tallyproof-app:local');
      expect(JSON.stringify(services[name]!.build)).toMatch(/deploy\/Dockerfile/);
      for (const part of (services[name]!.command ?? []).filter((p) => p.includes('/'))) {
        if (part.startsWith('node_modules/')) continue;
        expect(existsSync(join(REPO, part)), part).toBe(true);
      }
    }
    const env = services.api!.environment!;
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'CHAIN_RPC_URL',
      'CONTRACT_ADDRESS',
      'ADMIN_TOKEN',
      'PORT',
      'LEDGER_KEY_SEED',
    ]) {
      expect(env, name).toHaveProperty(name);
    }
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'CHAIN_RPC_URL', 'CHAIN_PRIVATE_KEY', 'CONTRACT_ADDRESS']) {
      expect(services.worker!.environment, name).toHaveProperty(name);
    }
    // Least privilege: only the worker signs with the anchorer key.
    expect(env).not.toHaveProperty('CHAIN_PRIVATE_KEY');
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.TRUST_PROXY).toBe('1');
    expect(services.worker!.environment!.METRICS_PORT).toBe('9464');
    // Only the proxy faces clients; the API replicas publish no port.
    expect(services.api!.ports ?? []).toEqual([]);
    expect(JSON.stringify(services.proxy!.ports)).toMatch(/80/);
    expect(services.proxy!.image).toMatch(/^caddy:/);
    const caddyfile = readFileSync(join(DEPLOY, 'caddy/Caddyfile'), 'utf8');
    expect(caddyfile).toMatch(/dynamic a api 8080/);
    expect(caddyfile).toMatch(/lb_policy least_conn/);
  });

  it('runs 4 Besu QBFT validators with fixed addresses and the QBFT flags', () => {
    const config = composeConfig(ENV_EXAMPLE);
    const validators = Object.entries(config.services).filter(([, s]) => s.image?.startsWith('hyperledger/besu:'));
    expect(validators.map(([name]) => name).sort()).toEqual([
      'validator-1',
      'validator-2',
      'validator-3',
      'validator-4',
    ]);
    expect(config.networks.chain!.ipam?.config?.[0]?.subnet).toBe('172.30.0.0/24');
    for (const [name, s] of validators) {
      const n = Number(name.slice(-1));
      const flags = s.command!;
      for (const flag of [
        '--genesis-file=/config/genesis.json',
        '--node-private-key-file=/config/key',
        '--static-nodes-file=/config/static-nodes.json',
        '--data-path=/opt/besu/data',
        '--p2p-port=30303',
        '--rpc-http-enabled',
        '--rpc-http-host=0.0.0.0',
        '--rpc-http-api=ETH,NET,WEB3',
        '--host-allowlist=*',
        '--min-gas-price=0',
        '--metrics-enabled',
      ]) {
        expect(flags, `${name} ${flag}`).toContain(flag);
      }
      expect(flags.some((f) => f.startsWith('--rpc-http-cors-origins='))).toBe(true);
      // The application network reaches the JSON-RPC listener: no validator votes, no admin API there,
      // and no other listener (WebSocket, GraphQL) that could carry them.
      for (const f of flags.filter((x) => /-api(s)?=/.test(x)))
        expect(f, name).not.toMatch(/QBFT|ADMIN|IBFT|DEBUG|MINER/);
      expect(
        flags.filter((f) => /^--(rpc-ws|graphql-http|engine-rpc)-enabled/.test(f)),
        name,
      ).toEqual([]);
      expect(s.networks?.chain?.ipv4_address).toBe(`172.30.0.${10 + n}`);
      expect(s.environment?.BESU_P2P_HOST).toBe(`172.30.0.${10 + n}`);
      const mounts = Object.fromEntries(bindMounts(s).map(([src, dst]) => [dst, src]));
      expect(mounts['/config/key']).toMatch(new RegExp(`/generated/${name}/key$`));
      expect(mounts['/config/static-nodes.json']).toMatch(new RegExp(`/generated/${name}/static-nodes.json$`));
      expect(mounts['/config/genesis.json']).toMatch(/\/generated\/genesis.json$/);
      expect(JSON.stringify(s.volumes)).toContain(`${name}-data`);
    }
  });

  it('holds no secret: every one comes from the env file', () => {
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    expect(raw).not.toMatch(/0x[0-9a-fA-F]{64}/);
    expect(raw).not.toMatch(/change-me/);
    // Credentials inside URLs are interpolated.
    for (const m of raw.matchAll(/:\/\/[^/\s@]*:([^@\s]*)@/g)) expect(m[1], m[0]).toMatch(/^\$\{[A-Z_]+/);
    // Every secret-looking variable is set from ${...}.
    for (const m of raw.matchAll(/^\s*([A-Z][A-Z0-9_]*(?:PASSWORD|TOKEN|SECRET|_KEY|SEED|_AUTH)):\s*(.*)$/gm)) {
      expect(m[2], m[1]).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
    }
    // After interpolation with the example env file, the secrets are its placeholders; with the generated one, its values.
    for (const envFile of [ENV_EXAMPLE, genEnv]) {
      const values = readEnvFile(envFile);
      const { services } = composeConfig(envFile);
      const api = services.api!.environment!;
      expect(services.worker!.environment!.CHAIN_PRIVATE_KEY).toBe(values.CHAIN_PRIVATE_KEY);
      expect(api.ADMIN_TOKEN).toBe(values.ADMIN_TOKEN);
      expect(api.LEDGER_KEY_SEED).toBe(values.LEDGER_KEY_SEED);
      for (const name of APP_SERVICES) {
        expect(services[name]!.environment!.DATABASE_URL, name).toBe(
          `postgres://tallyproof_app:${values.TALLYPROOF_APP_DB_PASSWORD}@postgres:5432/tallyproof`,
        );
      }
      expect(services.migrate!.environment!.DATABASE_OWNER_URL).toBe(
        `postgres://tallyproof:${values.TALLYPROOF_OWNER_DB_PASSWORD}@postgres:5432/tallyproof`,
      );
      expect(services.postgres!.environment!.TALLYPROOF_OWNER_DB_PASSWORD).toBe(values.TALLYPROOF_OWNER_DB_PASSWORD);
      expect(services.postgres!.environment!.TALLYPROOF_APP_DB_PASSWORD).toBe(values.TALLYPROOF_APP_DB_PASSWORD);
      // The superuser's and the owner's passwords reach no long-running app process.
      for (const name of APP_SERVICES) {
        const text = JSON.stringify(services[name]!.environment);
        for (const secret of ['POSTGRES_PASSWORD', 'TALLYPROOF_OWNER_DB_PASSWORD'])
          expect(text, `${name} holds ${secret}`).not.toContain(values[secret]!);
      }
      expect(api.REDIS_URL).toBe(`redis://:${values.REDIS_PASSWORD}@redis:6379`);
      expect(services.postgres!.environment!.POSTGRES_PASSWORD).toBe(values.POSTGRES_PASSWORD);
      expect(services.redis!.command).toContain(values.REDIS_PASSWORD);
      expect(services.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD).toBe(values.GRAFANA_ADMIN_PASSWORD);
      expect(services['contract-deploy']!.environment!.DEPLOYER_KEY).toBe(values.DEPLOYER_KEY);
      // The worker and the deploy job do not get the receipt-signing key.
      expect(services.worker!.environment).not.toHaveProperty('LEDGER_KEY_SEED');
      expect(services['contract-deploy']!.environment).not.toHaveProperty('LEDGER_KEY_SEED');
    }
    // The example holds only placeholders.
    const example = readEnvFile(ENV_EXAMPLE);
    for (const name of SECRET_NAMES) expect(example[name], name).toMatch(/^change-me/);
  });

  it('gives every process only the database role it needs; passwords are set once, never logged', () => {
    const { services } = composeConfig(ENV_EXAMPLE);
    // Migrations: a one-shot service with the owner's URL, after PostgreSQL is up.
    const migrate = services.migrate!;
    expect(migrate.restart).toBe('no');
    expect(migrate.image).toBe('tallyproof-app:local');
    expect(migrate.command).toEqual(['node', '--import', 'tsx', 'scripts/migrate.ts']);
    expect(migrate.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(new URL(migrate.environment!.DATABASE_OWNER_URL!).username).toBe('tallyproof');
    expect(migrate.environment).not.toHaveProperty('TALLYPROOF_APP_DB_PASSWORD');
    // The API and the worker: the application role's URL and nothing that could act as the owner.
    for (const name of APP_SERVICES) {
      const env = services[name]!.environment!;
      expect(new URL(env.DATABASE_URL!).username, name).toBe('tallyproof_app');
      for (const v of [
        'DATABASE_OWNER_URL',
        'TALLYPROOF_APP_DB_PASSWORD',
        'TALLYPROOF_OWNER_DB_PASSWORD',
        'POSTGRES_PASSWORD',
      ])
        expect(env, `${name} ${v}`).not.toHaveProperty(v);
    }
    // The superuser is not the ledger's owner; the roles come from the init script, run once.
    const pg = services.postgres!.environment!;
    expect(pg.POSTGRES_USER).toBe('postgres');
    expect(pg.POSTGRES_DB ?? 'postgres').not.toBe('tallyproof'); // created by the init script, owned by tallyproof
    const mounts = Object.fromEntries(bindMounts(services.postgres!).map(([src, dst]) => [dst, src]));
    const initTarget = Object.keys(mounts).find((dst) => dst.startsWith('/docker-entrypoint-initdb.d/'));
    expect(initTarget).toMatch(/\.sh$/);
    expect(mounts[initTarget!]).toMatch(/\/deploy\/postgres\/init-roles\.sh$/);
    expect(JSON.stringify(services.postgres!.healthcheck?.test)).toMatch(/"-U","postgres"/);

    const init = readFileSync(join(DEPLOY, 'postgres/init-roles.sh'), 'utf8');
    expect(statSync(join(DEPLOY, 'postgres/init-roles.sh')).mode & 0o111).not.toBe(0); // run, not sourced
    const sql = init.slice(init.indexOf("<<'SQL'"));
    expect(sql, 'quoted here-document: no shell expansion inside').toMatch(/^<<'SQL'\n/);
    // Logging off before the first statement that carries a password, in the same session.
    const firstPassword = sql.search(/PASSWORD/);
    expect(firstPassword).toBeGreaterThan(0);
    for (const setting of [/SET log_statement = 'none';/, /SET log_min_error_statement = 'panic';/]) {
      const at = sql.search(setting);
      expect(at, String(setting)).toBeGreaterThanOrEqual(0);
      expect(at, String(setting)).toBeLessThan(firstPassword);
    }
    // Passwords only as psql variables read from the environment, never on a command line.
    expect(sql).toMatch(/\\getenv owner_password TALLYPROOF_OWNER_DB_PASSWORD/);
    expect(sql).toMatch(/\\getenv app_password TALLYPROOF_APP_DB_PASSWORD/);
    for (const line of sql.split('\n').filter((l) => /PASSWORD /.test(l) && !l.startsWith('\\')))
      expect(line).toMatch(/PASSWORD :'(owner|app)_password';?$/);
    const commandLines = init.split('\n').filter((l) => /\bpsql\b/.test(l));
    for (const l of commandLines) expect(l).not.toMatch(/\$\{?TALLYPROOF_[A-Z_]*PASSWORD/);
    expect(sql).toMatch(/CREATE ROLE tallyproof LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION/);
    expect(sql).toMatch(/CREATE ROLE tallyproof_app LOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION/);
    expect(sql).toMatch(/CREATE DATABASE tallyproof OWNER tallyproof;/);
    expect(sql).toMatch(/ALTER SCHEMA public OWNER TO tallyproof;/);

    // No service sets a password with a plaintext statement (a failed one is logged with its text).
    for (const [name, s] of Object.entries(services)) {
      const text = JSON.stringify([s.command ?? [], s.entrypoint ?? [], s.healthcheck?.test ?? []]);
      expect(text, name).not.toMatch(/ALTER\s+ROLE|CREATE\s+ROLE|PASSWORD\s+'/i);
    }
  });

  it('keeps /metrics off the public proxy, limits slow clients, and refuses plain HTTP to others', () => {
    const caddyfile = readFileSync(join(DEPLOY, 'caddy/Caddyfile'), 'utf8');
    const site = caddyfile.slice(caddyfile.indexOf('{$SITE_ADDRESS'), caddyfile.indexOf('\n:2020 {'));
    const metrics = /@metrics path ([^\n]+)\n\s*respond @metrics 404/.exec(site);
    expect(metrics, 'the public site answers 404 for the metrics paths').not.toBeNull();
    for (const p of ['/metrics', '/api/v1/metrics']) expect(metrics![1]!.split(/\s+/)).toContain(p);
    // Matchers are applied before reverse_proxy: `respond` sorts before it in Caddy's directive order, and
    // nothing wraps reverse_proxy in a route that would change that.
    expect(site).not.toMatch(/\broute\b/);
    const timeouts = /servers \{\s*timeouts \{([\s\S]*?)\n\s*\}\n/.exec(caddyfile);
    expect(timeouts, 'global servers timeouts').not.toBeNull();
    for (const t of ['read_header', 'read_body', 'idle']) expect(timeouts![1]).toMatch(new RegExp(`\\b${t} `));
    expect(timeouts![1]).not.toMatch(/\bwrite\b/); // results streams are long responses
    expect(site).toMatch(/protocol http/);
    expect(site).toMatch(/host localhost 127\.0\.0\.1 \[::1\]/);
    expect(site).toMatch(/"\{\$ALLOW_PLAIN_HTTP:false\}" != "true"/);
    expect(site).toMatch(/respond @plain_http_refused "[^"]*ALLOW_PLAIN_HTTP[^"]*" 403/);

    const { services } = composeConfig(ENV_EXAMPLE);
    const proxy = services.proxy!.environment!;
    expect(proxy.SITE_ADDRESS).toBe(':80');
    expect(proxy.ALLOW_PLAIN_HTTP).toBe('false');
    expect(services.proxy!.networks).not.toHaveProperty('chain');
    // Prometheus still scrapes every replica directly on the backend network.
    expect(services.prometheus!.networks).toHaveProperty('backend');
    expect(services.api!.networks).toHaveProperty('backend');
  });

  it('runs with the generated network: mounts exist and static peers match the validator addresses', () => {
    const r = runCompose(genEnv, ['config', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const { services } = composeConfig(genEnv);
    const network = JSON.parse(readFileSync(join(genDir, 'network.json'), 'utf8'));
    for (let n = 1; n <= 4; n++) {
      const s = services[`validator-${n}`]!;
      for (const [src] of bindMounts(s)) expect(existsSync(src), src).toBe(true);
      const mounts = Object.fromEntries(bindMounts(s).map(([src, dst]) => [dst, src]));
      const peers = JSON.parse(readFileSync(mounts['/config/static-nodes.json']!, 'utf8')) as string[];
      const peerIps = peers.map((e) => /@([\d.]+):30303$/.exec(e)![1]);
      const others = [1, 2, 3, 4]
        .filter((m) => m !== n)
        .map((m) => services[`validator-${m}`]!.networks!.chain!.ipv4_address);
      expect(peerIps.sort()).toEqual(others.sort());
      expect(network.validators[n - 1].ip).toBe(s.networks!.chain!.ipv4_address);
    }
    expect(services['contract-deploy']!.environment!.ANCHORER_ADDRESS).toBe(readEnvFile(genEnv).ANCHORER_ADDRESS);
  });

  it('keeps deploy/.env and deploy/generated/ out of git and out of the image', () => {
    for (const path of ['deploy/.env', 'deploy/generated/genesis.json', 'deploy/generated/validator-1/key']) {
      expect(spawnSync('git', ['check-ignore', '-q', path], { cwd: REPO }).status, path).toBe(0);
    }
    const example = spawnSync('git', ['check-ignore', '-q', 'deploy/.env.example'], { cwd: REPO });
    expect(example.status).toBe(1); // not ignored: committed
    const ignore = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n');
    for (const entry of ['deploy/.env', 'deploy/generated', '**/node_modules']) expect(ignore).toContain(entry);
    expect(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')).toMatch(/^FROM node:20-slim$/m);
  });
});

describe('monitoring configuration', () => {
  /** Metric names the code registers (prom-client `name: 'tallyproof_…'`). */
  function registeredMetrics(): Set<string> {
    const names = new Set<string>();
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (/\.[cm]?[jt]s$/.test(entry.name)) {
          for (const m of readFileSync(p, 'utf8').matchAll(/name:\s*'(tallyproof_[a-z0-9_]+)'/g)) names.add(m[1]!);
        }
      }
    };
    walk(join(REPO, 'api/src'));
    walk(join(REPO, 'anchor-worker/src'));
    return names;
  }

  function referencedMetrics(text: string): string[] {
    return [...new Set([...text.matchAll(/\btallyproof_[a-z0-9_]+/g)].map((m) => m[0]))];
  }

  it('scrapes every API replica, the worker, the validators and the proxy', () => {
    const prom = yamlToJson(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; type: string; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };
    const jobs = Object.fromEntries(prom.scrape_configs.map((j) => [j.job_name, j]));
    expect(jobs.api!.dns_sd_configs).toEqual([expect.objectContaining({ names: ['api'], type: 'A', port: 8080 })]);
    expect(jobs.worker!.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], type: 'A', port: 9464 }),
    ]);
    expect(jobs.besu!.static_configs!.flatMap((s) => s.targets).sort()).toEqual(
      [1, 2, 3, 4].map((n) => `validator-${n}:9545`),
    );
    expect(jobs.proxy!.static_configs!.flatMap((s) => s.targets)).toEqual(['proxy:2020']);
    expect(prom.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toContain('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('has the alert rules docs/operations.md explains, on metrics the code exports', () => {
    const text = readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8');
    const rules = (
      yamlToJson(text) as { groups: { rules: { alert: string; expr: string; labels: { severity: string } }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    for (const name of [
      'TallyproofAnchorLagHigh',
      'TallyproofChainHalted',
      'TallyproofChainQuorumLost',
      'TallyproofHttp5xxRate',
      'TallyproofDatabaseDown',
      'TallyproofIngestLatencyHigh',
      'TallyproofWorkerDown',
      'TallyproofApiDown',
    ]) {
      expect(byName[name], name).toBeDefined();
      expect(['critical', 'warning']).toContain(byName[name]!.labels.severity);
    }
    expect(byName.TallyproofAnchorLagHigh!.expr).toMatch(/tallyproof_anchor_lag_seconds\) > 90/);
    const registered = registeredMetrics();
    for (const metric of referencedMetrics(text))
      expect(registered, metric).toContain(metric.replace(/_(bucket|sum|count)$/, ''));
    const doc = existsSync(join(REPO, 'docs/operations.md'))
      ? readFileSync(join(REPO, 'docs/operations.md'), 'utf8')
      : '';
    for (const r of rules) expect(doc, `docs/operations.md explains ${r.alert}`).toContain(r.alert);
  });

  it('provisions the Prometheus datasource and a dashboard on metrics the code exports', () => {
    const ds = yamlToJson(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; url: string; type: string }[];
    };
    expect(ds.datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    const provider = yamlToJson(
      readFileSync(join(DEPLOY, 'grafana/provisioning/dashboards/tallyproof.yml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    expect(provider.providers[0]!.options.path).toBe('/etc/grafana/dashboards');
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toContain('./grafana/dashboards:/etc/grafana/dashboards:ro');

    const text = readFileSync(join(DEPLOY, 'grafana/dashboards/tallyproof.json'), 'utf8');
    const dashboard = JSON.parse(text) as {
      uid: string;
      panels: {
        type: string;
        title: string;
        datasource?: { uid: string };
        targets?: { expr: string; datasource: { uid: string } }[];
      }[];
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('prometheus');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource.uid).toBe('prometheus');
    }
    const exprs = panels.flatMap((p) => p.targets!.map((t) => t.expr)).join('\n');
    for (const needle of [
      'rate(tallyproof_ballots_received_total[1m])',
      'tallyproof_ballots_rejected_total',
      'tallyproof_ballots_duplicate_total',
      'histogram_quantile(0.99, sum by (le) (rate(tallyproof_ballot_request_seconds_bucket',
      'tallyproof_anchor_lag_seconds',
      'tallyproof_windows_sealed',
      'tallyproof_db_pool_size',
    ]) {
      expect(exprs).toContain(needle);
    }
    const registered = registeredMetrics();
    for (const metric of referencedMetrics(text))
      expect(registered, metric).toContain(metric.replace(/_(bucket|sum|count)$/, ''));
  });
});

describe('contract-deploy job (deploy-contract.ts) on a real chain', () => {
  let chain: AnvilNode;
  let dir: string;

  beforeAll(async () => {
    chain = await startAnvil({ blockTimeSeconds: 1 });
    dir = mkdtempSync(join(tmpdir(), 'tallyproof-deploy-job-'));
  });

  afterAll(async () => {
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function runJob(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
    // spawn, not spawnSync: the job polls the chain for a while; keep this process's event loop free.
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(DEPLOY, 'scripts/deploy-contract.ts')], {
        cwd: REPO,
        env: {
          ...cleanEnv,
          CHAIN_RPC_URL: chain.rpcUrl,
          CHAIN_ID: String(chain.chainId),
          CHAIN_WAIT_SECONDS: '30',
          ...env,
        },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolvePromise({ code, out }));
    });
  }

  it('deploys TallyAnchor with the anchorer allowed, then only re-checks it', async () => {
    const file = join(dir, 'deployment.json');
    const owner = chain.accounts[0]!;
    const anchorer = chain.accounts[1]!;
    const first = await runJob({
      DEPLOYER_KEY: owner.privateKey,
      ANCHORER_ADDRESS: anchorer.address,
      DEPLOYMENT_FILE: file,
    });
    expect(first.code, first.out).toBe(0);
    const record = JSON.parse(readFileSync(file, 'utf8')) as { address: string; chainId: number };
    expect(record.chainId).toBe(chain.chainId);
    expect(existsSync(`${file}.tmp`)).toBe(false);

    const provider = new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true });
    try {
      expect(await provider.getCode(record.address)).not.toBe('0x');
      const contract = new Contract(
        record.address,
        ['function isAnchorer(address) view returns (bool)', 'function owner() view returns (address)'],
        provider,
      );
      expect(await contract.isAnchorer!(anchorer.address)).toBe(true);
      expect(await contract.isAnchorer!(owner.address)).toBe(false);
      expect(await contract.owner!()).toBe(owner.address);
    } finally {
      provider.destroy();
    }

    // A restart of the stack: the recorded contract is checked, nothing is deployed (no key needed).
    const before = readFileSync(file, 'utf8');
    const second = await runJob({ ANCHORER_ADDRESS: anchorer.address, DEPLOYMENT_FILE: file });
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/already deployed at/);
    expect(readFileSync(file, 'utf8')).toBe(before);

    // The entry wrapper of the api and worker services exports the recorded address.
    const wrapped = spawnSync(
      'sh',
      [
        join(DEPLOY, 'scripts/with-deployment.sh'),
        process.execPath,
        '-e',
        'process.stdout.write(process.env.CONTRACT_ADDRESS)',
      ],
      {
        encoding: 'utf8',
        env: { ...cleanEnv, DEPLOYMENT_FILE: file },
      },
    );
    expect(wrapped.status, wrapped.stderr).toBe(0);
    expect(wrapped.stdout).toBe(record.address);
  });

  it('rotates the anchorer with set-anchorer.ts (owner only)', async () => {
    const file = join(dir, 'deployment.json');
    const [owner, oldAnchorer, newAnchorer, stranger] = chain.accounts;
    const run = (env: Record<string, string>, args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolvePromise) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            join(DEPLOY, 'scripts/set-anchorer.ts'),
            '--rpc',
            chain.rpcUrl,
            '--deployment',
            file,
            ...args,
          ],
          {
            cwd: REPO,
            env: { ...cleanEnv, ...env },
          },
        );
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => resolvePromise({ code, out }));
      });
    const allow = await run({ OWNER_KEY: owner!.privateKey }, ['--account', newAnchorer!.address, '--allow']);
    expect(allow.code, allow.out).toBe(0);
    expect(allow.out).toMatch(/allowed \(tx 0x[0-9a-f]{64}\)/);
    const { address } = JSON.parse(readFileSync(file, 'utf8')) as { address: string };
    // The rest through the exported function (a CLI start costs seconds).
    const base = { rpc: chain.rpcUrl, contract: address, ownerKey: owner!.privateKey };
    expect(await setAnchorer({ ...base, account: oldAnchorer!.address, allowed: false })).toMatchObject({
      allowed: false,
      txHash: expect.stringMatching(/^0x/),
    });
    expect(await setAnchorer({ ...base, account: oldAnchorer!.address, allowed: false })).toMatchObject({
      allowed: false,
      txHash: null,
    });
    // A fresh account holds nothing: allowing it funds it from the owner.
    const fresh = Wallet.createRandom().address;
    expect(await setAnchorer({ ...base, account: fresh, allowed: true, fundWei: 5n * 10n ** 18n })).toMatchObject({
      allowed: true,
      fundTxHash: expect.stringMatching(/^0x/),
    });
    await expect(
      setAnchorer({ ...base, ownerKey: stranger!.privateKey, account: stranger!.address, allowed: true }),
    ).rejects.toThrow(/the contract owner is/);
    const usage = await run({ OWNER_KEY: owner!.privateKey }, ['--account', stranger!.address, '--allow', '--revoke']);
    expect(usage.code).toBe(2);
    expect(usage.out).toMatch(/exactly one of --allow, --revoke/);

    const provider = new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true });
    try {
      const contract = new Contract(address, ['function isAnchorer(address) view returns (bool)'], provider);
      expect(await contract.isAnchorer!(newAnchorer!.address)).toBe(true);
      expect(await contract.isAnchorer!(oldAnchorer!.address)).toBe(false);
      expect(await contract.isAnchorer!(stranger!.address)).toBe(false);
      expect(await contract.isAnchorer!(fresh)).toBe(true);
      expect(await provider.getBalance(fresh)).toBe(5n * 10n ** 18n);
    } finally {
      provider.destroy();
    }
  });

  it('stops when the recorded contract is not on the chain, and on placeholders', async () => {
    const file = join(dir, 'stale.json');
    const nowhere = computeAddress(keccak256(toUtf8Bytes('no contract here')));
    writeFileSync(file, JSON.stringify({ address: nowhere, chainId: chain.chainId }));
    const stale = await runJob({ DEPLOYMENT_FILE: file, ANCHORER_ADDRESS: chain.accounts[1]!.address });
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/has no code there: the chain was reset/);

    const placeholder = await runJob({
      DEPLOYMENT_FILE: join(dir, 'none.json'),
      DEPLOYER_KEY: 'change-me-deployer-key',
      ANCHORER_ADDRESS: 'change-me-anchorer-address',
    });
    expect(placeholder.code).toBe(1);
    expect(placeholder.out).toMatch(/placeholders from \.env\.example \(DEPLOYER_KEY, ANCHORER_ADDRESS\)/);

    const wrapped = spawnSync('sh', [join(DEPLOY, 'scripts/with-deployment.sh'), 'true'], {
      encoding: 'utf8',
      env: { ...cleanEnv, ADMIN_TOKEN: 'change-me-admin-token' },
    });
    expect(wrapped.status).toBe(78);
    expect(wrapped.stderr).toMatch(/ADMIN_TOKEN/);
  });
});

describe('docker-compose.replicated.yml (the replicated database)', () => {
  function replicated(envFile: string, args: string[]): SpawnSyncReturns<string> {
    const c = requireCompose();
    return spawnSync(c.cmd, [...c.pre, '-f', COMPOSE_FILE, '-f', REPLICATED_FILE, '--env-file', envFile, ...args], {
      cwd: REPO,
      encoding: 'utf8',
      env: cleanEnv,
    });
  }
  function replicatedConfig(envFile: string): ComposeConfig {
    const c = requireCompose();
    const r = replicated(envFile, c.json ? ['config', '--format', 'json'] : ['config']);
    if (r.status !== 0) throw new Error(`compose config failed (${r.status}): ${r.stderr}`);
    return (c.json ? JSON.parse(r.stdout) : yamlToJson(r.stdout)) as ComposeConfig;
  }
  const NODES = ['postgres', 'postgres-b', 'postgres-c'];

  it('is valid laid over docker-compose.yml: a pg_auto_failover monitor and three nodes', () => {
    const r = replicated(ENV_EXAMPLE, ['config', '-q']);
    expect(r.status, r.stderr).toBe(0);
    const { services, volumes } = replicatedConfig(ENV_EXAMPLE);
    expect(services['pg-monitor']!.command).toEqual(['monitor', 'pg-monitor']);
    for (const name of NODES) expect(services[name]!.command, name).toEqual(['node', name]);
    const dataVolumes = new Set<string>();
    for (const name of ['pg-monitor', ...NODES]) {
      const s = services[name]!;
      expect(s.image, name).toBe('tallyproof-pgaf:local');
      expect(JSON.stringify(s.build), name).toMatch(/Dockerfile\.pg-auto-failover/);
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.healthcheck?.test, name).toBeDefined();
      // pg_autoctl's configuration and state in the data volume, with PGDATA: they survive the container.
      for (const v of ['PGDATA', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME'])
        expect(s.environment?.[v], `${name} ${v}`).toMatch(/^\/var\/lib\/postgresql\/data\//);
      const data = (s.volumes ?? []).find((v) =>
        typeof v === 'string'
          ? v.split(':')[1] === '/var/lib/postgresql/data'
          : v.target === '/var/lib/postgresql/data',
      );
      expect(data, `${name} data volume`).toBeDefined();
      dataVolumes.add(typeof data === 'string' ? data.split(':')[0]! : data!.source);
    }
    expect(dataVolumes.size, 'one data volume per node').toBe(4);
    for (const v of dataVolumes) expect(volumes, v).toHaveProperty(v);
    // The standbys join the first node; the app and the migrations wait for the formation to be synchronous.
    for (const name of ['postgres-b', 'postgres-c'])
      expect(services[name]!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    for (const name of ['migrate', 'api', 'worker'])
      for (const node of NODES)
        expect(services[name]!.depends_on?.[node], `${name} waits for ${node}`).toMatchObject({
          condition: 'service_healthy',
        });
    const image = readFileSync(join(DEPLOY, 'postgres/Dockerfile.pg-auto-failover'), 'utf8');
    expect(image).toMatch(/apt-get install[^\n]*postgresql-15-auto-failover/);
    expect(statSync(join(DEPLOY, 'postgres/pg-auto-failover.sh')).mode & 0o111).not.toBe(0);
  });

  it('gives the app and the migrations every node in one URL, and the replication passwords to the nodes only', () => {
    const values = readEnvFile(genEnv);
    const { services } = replicatedConfig(genEnv);
    const hosts = NODES.map((host) => ({ host, port: 5432 }));
    for (const name of ['api', 'worker']) {
      const url = services[name]!.environment!.DATABASE_URL!;
      expect(url, name).toBe(
        `postgres://tallyproof_app:${values.TALLYPROOF_APP_DB_PASSWORD}@postgres:5432,postgres-b:5432,postgres-c:5432/tallyproof?target_session_attrs=read-write`,
      );
      expect(urlHosts(url)).toEqual(hosts);
      expect(urlUser(url)).toBe('tallyproof_app');
    }
    const owner = services.migrate!.environment!.DATABASE_OWNER_URL!;
    expect(urlUser(owner)).toBe('tallyproof');
    expect(urlHosts(owner)).toEqual(hosts);
    for (const name of ['pg-monitor', ...NODES]) {
      expect(services[name]!.environment!.PGAF_MONITOR_PASSWORD, name).toBe(values.PGAF_MONITOR_PASSWORD);
      expect(services[name]!.environment!.PGAF_REPLICATION_PASSWORD, name).toBe(values.PGAF_REPLICATION_PASSWORD);
    }
    for (const name of ['api', 'worker', 'migrate', 'proxy', 'prometheus', 'grafana']) {
      const text = JSON.stringify(services[name]!.environment ?? {});
      expect(text, name).not.toContain(values.PGAF_MONITOR_PASSWORD);
      expect(text, name).not.toContain(values.PGAF_REPLICATION_PASSWORD);
    }
    expect(readFileSync(REPLICATED_FILE, 'utf8')).not.toMatch(/change-me/);
  });
});
