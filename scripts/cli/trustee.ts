// `tallyproof trustee …`: a trustee's part in an encrypted election (docs/trustees.md). Every step reads files
// and writes a file, so that it runs on an offline machine; only `post` and `fetch` touch the network. The
// work is in trustee-steps.ts, loaded when a command runs (the curve library loads only then).
import { type Command, Option } from 'commander';
import { CliError } from './selections.js';
import type { FetchWhat, Http } from './trustee-steps.js';

/** What tallyproof.ts lends these commands: its HTTP helper, its error text, how it finds the admin token. */
export interface TrusteeDeps {
  api: Http;
  errorText: (body: unknown) => string;
  adminToken: (given: string | undefined) => string;
  defaultApi: string;
  tokenHelp: string;
}

export const TRUSTEE_EXIT_CODES = `
Exit codes: 0 done; 1 a command-line mistake or an unexpected failure; 2 refused: an input that does not fit
(wrong election, altered file, a step out of order), a message the board refused, the API unreachable;
4 (confirm) a trustee's share failed: the key ceremony must be run again without that trustee.`;

const OVERVIEW = `
The key ceremony (before the election opens), each trustee on their own machine:
  trustee new      --id ID --out me.json                        once: your secret file, your public entry
  trustee commit   --trustee me.json --election election.json --out commit.json
  trustee shares   --trustee me.json --election election.json --transcript transcript.json --out shares.json
  trustee confirm  --trustee me.json --election election.json --transcript transcript.json --out confirm.json
The decryption (after the close), any threshold of the trustees:
  trustee decrypt  --trustee me.json --election election.json --aggregate aggregate.json --out decrypt.json
On a machine online, to carry files to and from the server:
  trustee fetch    --election ID (--election-view | --transcript | --aggregate | --decryption) --out FILE
  trustee post     --election ID MESSAGE.json
Step by step, with what to check: docs/trustees.md.`;

const steps = () => import('./trustee-steps.js');

export function registerTrusteeCommands(program: Command, deps: TrusteeDeps): void {
  const trustee = program
    .command('trustee')
    .description("a trustee's part in an encrypted election: the key ceremony and the decryption (docs/trustees.md)")
    .addHelpText('after', `${OVERVIEW}\n${TRUSTEE_EXIT_CODES}`);

  const withHelp = (c: Command) => c.addHelpText('after', TRUSTEE_EXIT_CODES);
  const electionFile =
    'the election as the server serves it (GET /api/v1/elections/{id}: `trustee fetch --election-view` writes it); ' +
    'its manifest must hash to its manifestHash';
  const force = 'redo a step already done (new secrets): only if its first message was never posted';

  withHelp(
    trustee
      .command('new')
      .description(
        'Create your trustee file: a new Ed25519 signing key, kept secret in FILE (mode 0600). Prints the public ' +
          'entry {"id","key"} the official puts in the manifest\'s trustees.',
      )
      .requiredOption('--id <id>', 'your trustee id, as the manifest will list it (lowercase letters, digits, hyphens)')
      .requiredOption('--out <file>', 'the trustee file to create (refused if it exists)')
      .option('--public-out <file>', 'also write the public entry to this file')
      .action(async (o: { id: string; out: string; publicOut?: string }) => (await steps()).newStep(o)),
  );

  withHelp(
    trustee
      .command('commit')
      .description(
        'Key generation, step 1: draw your secret polynomial and share key, keep them in the trustee file, and ' +
          'write the signed keygen-commit (their commitments and proofs) to post. Run again, it writes the same one.',
      )
      .requiredOption('--trustee <file>', 'your trustee file')
      .requiredOption('--election <file>', electionFile)
      .requiredOption('--out <file>', 'the message to post')
      .option('--force', `${force}; or a trustee file that holds another election's secrets`)
      .action(async (o: { trustee: string; election: string; out: string; force?: boolean }) =>
        (await steps()).commitStep(o),
      ),
  );

  withHelp(
    trustee
      .command('shares')
      .description(
        'Key generation, step 2 (once every trustee has committed): write the signed keygen-shares, your ' +
          "polynomial's value for each other trustee, encrypted to that trustee alone.",
      )
      .requiredOption('--trustee <file>', 'your trustee file')
      .requiredOption('--election <file>', electionFile)
      .requiredOption('--transcript <file>', 'the board: GET …/trustee-messages (`trustee fetch --transcript`)')
      .requiredOption('--out <file>', 'the message to post')
      .option('--force', force)
      .action(async (o: { trustee: string; election: string; transcript: string; out: string; force?: boolean }) =>
        (await steps()).sharesStep(o),
      ),
  );

  withHelp(
    trustee
      .command('confirm')
      .description(
        'Key generation, step 3 (once every trustee has sent its shares): decrypt and check every share sent to ' +
          'you, keep your key share, and write the signed keygen-confirm; a share that fails is named (exit 4).',
      )
      .requiredOption('--trustee <file>', 'your trustee file')
      .requiredOption('--election <file>', electionFile)
      .requiredOption('--transcript <file>', 'the board: GET …/trustee-messages (`trustee fetch --transcript`)')
      .requiredOption('--out <file>', 'the message to post')
      .option('--force', 'refused once confirmed: the key generation secrets are discarded at confirm')
      .action(async (o: { trustee: string; election: string; transcript: string; out: string; force?: boolean }) =>
        (await steps()).confirmStep(o),
      ),
  );

  withHelp(
    trustee
      .command('decrypt')
      .description(
        'After the close: write your signed partial decryption of the published aggregate, with its proofs. ' +
          'Any threshold of the trustees suffices; decrypt only the aggregate the verifier checked.',
      )
      .requiredOption('--trustee <file>', 'your trustee file (after confirm)')
      .requiredOption('--election <file>', electionFile)
      .requiredOption('--aggregate <file>', 'the aggregate: GET …/aggregate (`trustee fetch --aggregate`)')
      .requiredOption('--out <file>', 'the message to post')
      .option('--force', 'decrypt another aggregate than the one decrypted before (only if that one was never posted)')
      .action(async (o: { trustee: string; election: string; aggregate: string; out: string; force?: boolean }) =>
        (await steps()).decryptStep(o),
      ),
  );

  withHelp(
    trustee
      .command('post')
      .description(
        'Post a signed trustee message to the board (POST …/trustee-messages, admin). Posting the same message ' +
          'again is harmless; the signature, not the token, says which trustee wrote it.',
      )
      .argument('<message-file>', 'a message written by commit, shares, confirm or decrypt')
      .option('--election <id>', 'the election id (checked against the message)')
      .option('--api <url>', 'API base URL', deps.defaultApi)
      .addOption(new Option('--token <token>', deps.tokenHelp).env('ADMIN_TOKEN'))
      .action(async (file: string, o: { election?: string; api: string; token?: string }) => {
        const token = deps.adminToken(o.token);
        await (await steps()).postStep(deps.api, deps.errorText, { ...o, file, token });
      }),
  );

  withHelp(
    trustee
      .command('fetch')
      .description(
        'Save what the server publishes for an election to a file, to carry to the offline machine: the ' +
          'election, the transcript of trustee messages, the aggregate to decrypt, or the decrypted result.',
      )
      .requiredOption('--election <id>', 'the election id')
      .option('--election-view', 'GET /api/v1/elections/{id}: the election (manifest and manifestHash checked)')
      .option('--transcript', 'GET …/trustee-messages: every trustee message and refusal')
      .option('--aggregate', 'GET …/aggregate: the sums to decrypt (after the close)')
      .option('--decryption', 'GET …/decryption: the decrypted counts')
      .requiredOption('--out <file>', 'where to write it')
      .option('--api <url>', 'API base URL', deps.defaultApi)
      .action(
        async (o: {
          election: string;
          out: string;
          api: string;
          electionView?: boolean;
          transcript?: boolean;
          aggregate?: boolean;
          decryption?: boolean;
        }) => {
          const chosen: FetchWhat[] = [];
          if (o.electionView) chosen.push('election-view');
          if (o.transcript) chosen.push('transcript');
          if (o.aggregate) chosen.push('aggregate');
          if (o.decryption) chosen.push('decryption');
          if (chosen.length !== 1)
            throw new CliError('give exactly one of --election-view, --transcript, --aggregate, --decryption');
          await (await steps()).fetchStep(deps.api, deps.errorText, { ...o, what: chosen[0]! });
        },
      ),
  );
}
