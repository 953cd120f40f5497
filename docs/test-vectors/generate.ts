// Generates docs/test-vectors/*.json deterministically (run: npm run vectors). Written against the
// RFC texts with @noble/* and a recursive RFC 6962 reference, not with the server's code, so that the
// server (ledger/) and the verifier (verifier-cli/) are both checked against an outside source.
// The v2 families (v2/, generate/v2.ts) are the exception: randomized proofs come from the server's core,
// and the verifier and the voter page, written separately, are what check them (every valid case accepted,
// every invalid one refused). shards.json (generate/shards.ts) is computed from the text, but its receipts are
// signed by the ledger's code, checked against the reference signature. One module per family of vectors in
// generate/; this file writes them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ballotVectors, receiptVectors } from './generate/ballots.js';
import { credentialVectors } from './generate/credentials.js';
import { strictEd25519Vectors } from './generate/ed25519-strict.js';
import { manifestVectors, rollRootVectors } from './generate/election.js';
import { jcsVectors } from './generate/jcs.js';
import { merkleVectors } from './generate/merkle.js';
import { resultsVectors } from './generate/results.js';
import { shardsVectors } from './generate/shards.js';
import { tileVectors } from './generate/tiles.js';
import * as v2 from './generate/v2.js';

const here = dirname(fileURLToPath(import.meta.url));
const write = (name: string, value: unknown) => writeFileSync(join(here, name), JSON.stringify(value, null, 2) + '\n');

write('rfc6962-merkle.json', merkleVectors());
write('jcs.json', jcsVectors());
write('manifest.json', manifestVectors());
write('roll-root.json', rollRootVectors());
write('ballots.json', ballotVectors());
write('receipts.json', receiptVectors());
write('ed25519-strict.json', strictEd25519Vectors());
write('credentials.json', credentialVectors());
write('results.json', resultsVectors());
write('shards.json', shardsVectors());
write('tiles.json', tileVectors());
mkdirSync(join(here, 'v2'), { recursive: true });
write('v2/group.json', v2.groupVectors());
write('v2/elgamal.json', v2.elgamalVectors());
write('v2/proofs.json', v2.proofVectors());
write('v2/keygen.json', v2.keygenVectors());
write('v2/decryption.json', v2.decryptionVectors());
write('v2/election.json', v2.electionVectors());
write('v2/audited-ballot.json', v2.auditedBallotVectors());
console.log('test vectors written to', here);
