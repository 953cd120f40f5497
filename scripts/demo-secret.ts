// The encrypted demo election `npm start` creates beside the plaintext one (docs/protocol.md section 12):
// one referendum question, three demo trustees (alice, bob, carol) with threshold 2. The trustees are
// played by this process with files under the data directory, through the same HTTP routes a real
// ceremony uses; in a real election each trustee runs `tallyproof trustee …` on their own machine
// (docs/trustees.md). At the close, two of the three (alice and carol) decrypt: bob stays away, to show
// that any K of N suffice.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { keyPairFromSeed } from '../ledger/src/protocol/ed25519.js';
import type { Manifest } from '../ledger/src/protocol/protocol.js';
import {
  type Aggregate,
  type KeygenCommit,
  type KeygenShares,
  makeDecryptShare,
  makeKeygenCommit,
  makeKeygenConfirm,
  makeKeygenShares,
  signTrusteeMessage,
  type TrusteeEnvelope,
  type TrusteeMessage,
  type TrusteeSecrets,
} from '../ledger/src/protocol/v2/index.js';
import type { DemoLanguage } from './demo.js';

export const DEMO_SECRET_ELECTION_ID = 'demo-secret';
export const DEMO_TRUSTEES = ['alice', 'bob', 'carol'] as const;
/** The trustees who decrypt at the close: two of three. */
export const DEMO_DECRYPTING_TRUSTEES = ['alice', 'carol'] as const;

interface DemoTrustee {
  id: string;
  seed: string;
  secrets?: TrusteeSecrets;
  keyShare?: string;
}

const TEXTS = {
  en: {
    title: 'Tallyproof demo — secret ballot',
    question: 'Should the town build a new library?',
    yes: 'Yes',
    no: 'No',
    later: 'Not now',
  },
  fr: {
    title: 'Démo Tallyproof — vote secret',
    question: 'La commune doit-elle construire une nouvelle bibliothèque ?',
    yes: 'Oui',
    no: 'Non',
    later: 'Pas maintenant',
  },
} as const;

/** The demo trustees' file (secrets included: a demo only), created once. */
export function loadDemoTrustees(file: string): DemoTrustee[] {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoTrustee[];
  const trustees = DEMO_TRUSTEES.map((id) => ({ id, seed: randomSeedHex() }));
  saveDemoTrustees(file, trustees);
  return trustees;
}

function randomSeedHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
}

function saveDemoTrustees(file: string, trustees: DemoTrustee[]): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(trustees, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function demoSecretManifest(
  trustees: readonly DemoTrustee[],
  minutesOpen: number,
  windowSeconds = 60,
  language: DemoLanguage = 'en',
) {
  const now = Date.now();
  const s = TEXTS[language];
  return {
    version: 2,
    electionId: DEMO_SECRET_ELECTION_ID,
    title: s.title,
    contests: [
      {
        id: 'bibliotheque',
        title: s.question,
        choices: [
          { id: 'oui', label: s.yes },
          { id: 'non', label: s.no },
          { id: 'plus-tard', label: s.later },
        ],
        minSelections: 0,
        maxSelections: 1,
      },
    ],
    opensAt: new Date(now - 60_000).toISOString(),
    closesAt: new Date(now + minutesOpen * 60_000).toISOString(),
    windowSeconds,
    ballotMode: 'encrypted',
    trustees: trustees.map((t) => ({
      id: t.id,
      key: keyPairFromSeed(Buffer.from(t.seed, 'hex')).publicKey.toString('hex'),
    })),
    threshold: 2,
  };
}

/** How the demo reaches the API: the routes a trustee's operator would use. */
export interface DemoBoard {
  post(envelope: TrusteeEnvelope): Promise<void>;
  transcript(): Promise<{ messages: TrusteeEnvelope[] }>;
  /** The aggregate once published, else null. */
  aggregate(): Promise<Aggregate | null>;
  election(): Promise<{ manifest: Manifest; manifestHash: string }>;
}

const sign = (t: DemoTrustee, m: TrusteeMessage) => signTrusteeMessage(Buffer.from(t.seed, 'hex'), m);

/** Runs whatever is left of the key ceremony (resumable: a restart picks up at the step it stopped). */
export async function runDemoCeremony(board: DemoBoard, file: string): Promise<void> {
  const trustees = loadDemoTrustees(file);
  const { manifest, manifestHash } = await board.election();
  const posted = async (kind: TrusteeMessage['kind']) =>
    (await board.transcript()).messages.filter((e) => e.message.kind === kind).map((e) => e.message);
  const has = async (kind: TrusteeMessage['kind'], id: string) => (await posted(kind)).some((m) => m.trustee === id);
  for (const t of trustees) {
    if (await has('keygen-commit', t.id)) continue;
    const { message, secrets } = makeKeygenCommit(manifest, manifestHash, t.id);
    t.secrets = secrets;
    saveDemoTrustees(file, trustees); // the secret is kept before its commitment leaves
    await board.post(sign(t, message));
  }
  const commits = (await posted('keygen-commit')) as KeygenCommit[];
  for (const t of trustees)
    if (!(await has('keygen-shares', t.id)))
      await board.post(sign(t, makeKeygenShares(manifest, manifestHash, t.id, t.secrets!, commits)));
  const shares = (await posted('keygen-shares')) as KeygenShares[];
  for (const t of trustees) {
    if (await has('keygen-confirm', t.id)) continue;
    const { message, keyShare } = makeKeygenConfirm(manifest, manifestHash, t.id, t.secrets!, commits, shares);
    t.keyShare = keyShare;
    saveDemoTrustees(file, trustees);
    await board.post(sign(t, message));
  }
}

/** Once the aggregate is published, alice and carol post their partial decryptions (bob does not). */
export async function demoDecryptIfClosed(board: DemoBoard, file: string): Promise<boolean> {
  const aggregate = await board.aggregate();
  if (!aggregate) return false;
  const trustees = loadDemoTrustees(file);
  const { manifest, manifestHash } = await board.election();
  const done = new Set(
    (await board.transcript()).messages.filter((e) => e.message.kind === 'decrypt').map((e) => e.message.trustee),
  );
  for (const id of DEMO_DECRYPTING_TRUSTEES) {
    const t = trustees.find((x) => x.id === id)!;
    if (done.has(id) || !t.keyShare) continue;
    await board.post(sign(t, makeDecryptShare(manifest, manifestHash, id, t.keyShare, aggregate)));
  }
  return true;
}

/** The part of a fastify app the demo needs: in-process requests. */
export interface Injector {
  inject(opts: {
    method: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    payload?: unknown;
  }): Promise<{ statusCode: number; body: string }>;
}

/** A DemoBoard over the API's routes, in process. */
export function injectedBoard(app: Injector, adminToken: string): DemoBoard {
  const base = `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}`;
  const get = async (path: string) => {
    const res = await app.inject({ method: 'GET', url: `${base}${path}` });
    return { status: res.statusCode, body: res.statusCode === 200 ? JSON.parse(res.body) : null };
  };
  return {
    async post(envelope) {
      const res = await app.inject({
        method: 'POST',
        url: `${base}/trustee-messages`,
        headers: { authorization: `Bearer ${adminToken}` },
        payload: envelope,
      });
      if (res.statusCode !== 201 && res.statusCode !== 200)
        throw new Error(`demo trustee ${envelope.message.trustee}: ${res.statusCode} ${res.body}`);
    },
    async transcript() {
      const r = await get('/trustee-messages');
      if (!r.body) throw new Error(`demo: cannot read the transcript (${r.status})`);
      return r.body as { messages: TrusteeEnvelope[] };
    },
    async aggregate() {
      return (await get('/aggregate')).body as Aggregate | null;
    },
    async election() {
      const r = await get('');
      if (!r.body) throw new Error(`demo: cannot read the election (${r.status})`);
      return r.body as { manifest: Manifest; manifestHash: string };
    },
  };
}

/**
 * Keeps the demo trustees at work while `npm start` runs: once the election is closed (at its closesAt, or
 * by `tallyproof election close`) and the aggregate is published, alice and carol decrypt. Returns the
 * stop function.
 */
export function watchDemoDecryption(board: DemoBoard, file: string, onDone: () => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    try {
      if (await demoDecryptIfClosed(board, file)) {
        onDone();
        return;
      }
    } catch (err) {
      process.stderr.write(`demo trustees: ${(err as Error).message}\n`);
    }
    if (!stopped) timer = setTimeout(tick, 3000);
  };
  timer = setTimeout(tick, 1000);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
