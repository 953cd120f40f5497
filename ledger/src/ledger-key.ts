// The ledger key signs receipts. From LEDGER_KEY_SEED (32-byte hex) when set, else generated once and
// kept in the data directory (mode 0600): losing it means new receipts are signed by another key.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { keyPairFromSeed } from './protocol/ed25519.js';
import { isHex } from './protocol/hash.js';

export interface LedgerKey {
  publicKeyHex: string;
  privateKey: KeyObject;
  seed: Buffer;
}

export function ledgerKeyFromSeed(seed: Uint8Array): LedgerKey {
  const kp = keyPairFromSeed(seed);
  return { publicKeyHex: kp.publicKey.toString('hex'), privateKey: kp.privateKeyObject, seed: kp.seed };
}

export function loadLedgerKey(dataDir: string, envSeed = process.env.LEDGER_KEY_SEED): LedgerKey {
  if (envSeed !== undefined && envSeed !== '') {
    if (!isHex(envSeed, 32)) throw new Error('LEDGER_KEY_SEED must be 32 bytes of lowercase hex (64 characters)');
    return ledgerKeyFromSeed(Buffer.from(envSeed, 'hex'));
  }
  const file = join(dataDir, 'ledger-key.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { seed?: unknown };
    if (!isHex(stored.seed, 32)) throw new Error(`${file} is corrupt: "seed" must be 32-byte hex`);
    return ledgerKeyFromSeed(Buffer.from(stored.seed, 'hex'));
  }
  mkdirSync(dataDir, { recursive: true });
  const key = ledgerKeyFromSeed(randomBytes(32));
  writeFileSync(file, JSON.stringify({ seed: key.seed.toString('hex'), publicKey: key.publicKeyHex }, null, 2) + '\n', {
    mode: 0o600,
    flag: 'wx',
  });
  return key;
}
