// deploy/.env, the stack's env file, from its template (deploy/.env.example): the chain's facts and every
// secret filled in with fresh random hex. Written by generate-qbft.ts.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface EnvFacts {
  chainId: number;
  subnet: string;
  /** QBFT_DIR as the compose file reads it (relative to deploy/ when inside it). */
  qbftDir: string;
  /** The contract owner's private key (DEPLOYER_KEY). */
  deployerKey: string;
  /** The anchorer account (CHAIN_PRIVATE_KEY, ANCHORER_ADDRESS). */
  anchorer: { privateKey: string; address: string };
}

/** Writes `envFile` (mode 0600) from `templateFile` with `facts` and fresh secrets. */
export function writeEnvFile(envFile: string, templateFile: string, facts: EnvFacts): void {
  const template = readFileSync(templateFile, 'utf8');
  const values: Record<string, string> = {
    CHAIN_ID: String(facts.chainId),
    CHAIN_SUBNET: facts.subnet,
    QBFT_DIR: facts.qbftDir,
    POSTGRES_PASSWORD: secret(),
    TALLYPROOF_OWNER_DB_PASSWORD: secret(),
    TALLYPROOF_APP_DB_PASSWORD: secret(),
    REDIS_PASSWORD: secret(),
    PGAF_MONITOR_PASSWORD: secret(),
    PGAF_REPLICATION_PASSWORD: secret(),
    GRAFANA_ADMIN_PASSWORD: secret(),
    ADMIN_TOKEN: randomBytes(32).toString('hex'),
    LEDGER_KEY_SEED: randomBytes(32).toString('hex'),
    DEPLOYER_KEY: facts.deployerKey,
    CHAIN_PRIVATE_KEY: facts.anchorer.privateKey,
    ANCHORER_ADDRESS: facts.anchorer.address,
  };
  mkdirSync(dirname(envFile), { recursive: true });
  writeFileSync(envFile, fillEnv(template, values), { mode: 0o600 });
  chmodSync(envFile, 0o600);
}

/** Hex only: safe in URLs (DATABASE_URL, REDIS_URL), on command lines and in env files. */
function secret(bytes = 24): string {
  return randomBytes(bytes).toString('hex');
}

/** Replaces `NAME=value` lines of the template (keeping comments and order); appends names it lacks. */
export function fillEnv(template: string, values: Record<string, string>): string {
  const seen = new Set<string>();
  const lines = template
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => {
      const m = /^([A-Z][A-Z0-9_]*)=/.exec(line);
      if (m === null || !(m[1]! in values)) return line;
      seen.add(m[1]!);
      return `${m[1]}=${values[m[1]!]}`;
    });
  const missing = Object.keys(values).filter((k) => !seen.has(k));
  if (missing.length > 0) lines.push('', '# Added by generate-qbft.ts', ...missing.map((k) => `${k}=${values[k]}`));
  return lines.join('\n').replace(/\n*$/, '\n');
}
