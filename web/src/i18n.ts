// English and French labels. Static text carries data-i18n="key" (textContent) and
// data-i18n-attr="attr:key;attr:key"; scripts call t(key, params) and re-render on onLanguageChange.
// The language is the user's last choice (localStorage), else navigator.language, else English.

export type Lang = 'en' | 'fr';
export const LANGS: Lang[] = ['en', 'fr'];

const en = {
  skip: 'Skip to main content',
  'nav.vote': 'Vote',
  'nav.check': 'Check my receipt',
  'nav.results': 'Results',
  'lang.label': 'Language',
  'common.load': 'Load',
  'common.working': 'Working…',
  'common.yes': 'yes',
  'common.no': 'no',
  'common.none': 'none',
  'common.networkError': 'The server could not be reached: {message}',
  'common.apiError': '{message} ({code})',
  'common.details': 'Details',

  'voter.title': 'Cast your ballot',
  'voter.intro':
    'Your ballot is signed on this device with your credential; the key never leaves the page. You get a signed receipt and can check later that your ballot is in a tree whose root is on the public chain.',
  'election.heading': '1. Election',
  'election.idLabel': 'Election identifier',
  'election.idHelp': 'Lowercase letters, digits and hyphens, as printed on your voting notice.',
  'election.invalidId': 'This is not a valid election identifier.',
  'election.notFound': 'There is no election “{id}”.',
  'election.status.scheduled': 'Not open yet',
  'election.status.open': 'Open',
  'election.status.closed': 'Closed',
  'election.opens': 'Opens',
  'election.closes': 'Closes',
  'election.manifestHash': 'Manifest hash',
  'election.contract': 'Contract',
  'election.chain': 'Chain id',
  'election.resultsLink': 'Live results of this election',
  'election.notOpen': 'Voting has not started: it opens {when}. You can still prepare your credential.',
  'election.closedNote': 'This election is closed: no more ballots are accepted. You can still check a receipt.',
  'election.closed': 'Closed',
  'election.scheduledClose': '(scheduled for {when})',
  'election.closedOn': 'This election closed on {when}: no more ballots are accepted. You can still check a receipt.',

  'cred.heading': '2. Your credential',
  'cred.how': 'How do you want to load your credential?',
  'cred.mode.paste': 'Paste my private key',
  'cred.mode.file': 'Open my credentials file',
  'cred.mode.secret': 'Derive it from my voter secret',
  'cred.pasteLabel': 'Private key (64 hexadecimal characters)',
  'cred.pasteHelp': 'The 32-byte seed you were given, or a line {"credential":…,"seed":…} of a credentials file.',
  'cred.use': 'Use this key',
  'cred.fileLabel': 'Credentials file (one JSON line per voter)',
  'cred.lineLabel': 'Credential in the file',
  'cred.lineNumberLabel': 'Line number (1 to {n})',
  'cred.useLine': 'Use this line',
  'cred.fileEmpty': 'The file holds no credential line.',
  'cred.fileBadLine': 'Line {n} is not a credential line {"credential":HEX,"seed":HEX}.',
  'cred.secretLabel': 'Voter secret',
  'cred.secretHelp':
    'Exactly as given to you (for example NAS|code). It is stretched with scrypt in your browser; this takes a few seconds.',
  'cred.derive': 'Derive my credential',
  'cred.deriving': 'Deriving… {percent}%',
  'cred.progressLabel': 'Derivation progress',
  'cred.derived': 'Derived.',
  'cred.badSeed': 'A private key is 64 hexadecimal characters (0–9, a–f).',
  'cred.mismatch': 'This private key does not belong to credential {credential}.',
  'cred.emptySecret': 'Enter your voter secret.',
  'cred.loaded': 'Credential loaded. Your public credential is:',
  'cred.ready': 'Credential loaded: you can make your choices.',
  'cred.needElection': 'Load the election first: a derived credential depends on it.',
  'cred.checking': 'Checking that this credential is on the roll of this election…',
  'cred.onRoll': 'This credential is on the roll of this election.',
  'cred.unchecked':
    'This credential could not be checked against the roll of this election just now. You can go on: the ledger checks it when you cast your ballot.',
  'cred.notOnRoll':
    'This key is not on the roll of this election. Check that it is the key you were given for this election.',
  'cred.notOnRollSecret':
    'The key derived from this voter secret is not on the roll of this election. The secret may be mistyped: check it character by character (capital letters, spaces and punctuation count), then derive again.',

  'choices.heading': '3. Your choices',
  'choices.pickOne': 'Choose one.',
  'choices.pickOneOrNone': 'Choose one, or none for a blank vote.',
  'choices.pickExactly': 'Choose exactly {n}.',
  'choices.pickRange': 'Choose from {min} to {max}.',
  'choices.pickUpTo': 'Choose up to {max} (none is a blank vote).',
  'choices.blank': 'No choice (blank vote)',
  'choices.count': '{n} of {max} chosen.',
  'choices.tooFew': '“{contest}”: choose at least {min}.',
  'choices.tooMany': '“{contest}”: choose at most {max}.',
  'choices.review': 'Review my ballot',
  'choices.fix': 'Please correct your choices:',

  'review.heading': '4. Review and cast',
  'review.intro':
    'Check your choices. Casting signs the ballot with your credential and sends it; a credential can cast only one ballot.',
  'review.blank': 'Blank vote',
  'review.credential': 'Credential',
  'review.edit': 'Change my choices',
  'review.cast': 'Sign and cast my ballot',
  'review.casting': 'Signing and sending…',

  'receipt.heading': '5. Your receipt',
  'receipt.accepted': 'Your ballot was recorded.',
  'receipt.again': 'This ballot had already been recorded; here is its receipt again.',
  'receipt.hash': 'Receipt hash (ballot hash)',
  'receipt.seq': 'Position in the ledger',
  'receipt.receivedAt': 'Received at',
  'receipt.signatureOk': 'The receipt is signed by the ledger key of this election.',
  'receipt.signatureBad': 'Warning: the receipt signature does NOT verify with the ledger key of this election.',
  'receipt.hashMismatch': 'Warning: the receipt names ballot hash {got}, but the ballot sent hashes to {expected}.',
  'receipt.promise': 'The ledger promises to anchor it on chain within {seconds} seconds.',
  'receipt.download': 'Download my receipt (JSON)',
  'receipt.check': 'Check my receipt now',
  'receipt.keep': 'Keep the receipt hash: it lets you check your ballot without revealing your vote.',
  'receipt.inBox': 'Your ballot is in the ballot box since {when}.',

  'dup.title': 'This credential has already voted.',
  'dup.body':
    'The ledger keeps the first ballot of each credential. This attempt was refused (refused attempts with this credential: {n}).',
  'dup.original': 'Receipt of the ballot already recorded:',

  'offline.savedTitle': 'Your ballot is signed and saved on this device.',
  'offline.savedBody':
    'It has not reached the ballot box yet ({reason}). It is sent by itself when the network returns, while this page is open or the next time you open it; sending it twice is harmless.',
  'offline.youAreOffline': 'you are offline',
  'offline.notSaved': 'The ballot could not be saved on this device: connect to the network and cast it again.',
  'offline.keyCleared': 'Your private key has been cleared from this page.',
  'offline.lateTitle': 'Your ballot was not counted.',
  'device.heading': 'On this device',
  'device.pendingHeading': 'Ballots waiting to be sent',
  'device.pendingItem': 'Signed ballot for “{title}”, saved {when}.',
  'device.sendNow': 'Send now',
  // A second name for the device box's button, so a screen reader does not hear two identical buttons.
  'device.sendAllNow': 'Send the waiting ballots now',
  'device.sending': 'Sending…',
  'device.lastError': 'Not sent yet: {message}',
  'device.late': 'The election closed at {when} before your ballot reached the ballot box; it was not counted.',
  'device.duplicateAnswer': 'Not counted: this credential had already cast another ballot.',
  'device.refused': 'Refused by the ledger: {message}',
  'device.badReceipt':
    'The server answered with a receipt that is not the one of this ballot, or not signed by its ledger key.',
  'device.dismiss': 'Dismiss',
  'device.receiptsHeading': 'Receipts on this device',
  'device.election': 'Election',
  'device.check': 'Check this receipt',
  'device.proof.none': 'proof not checked yet',
  'device.proof.pending': 'proof: waiting for its window',
  'device.proof.sealed': 'proof: sealed, waiting for its anchoring',
  'device.proof.verified': 'proof verified on chain',
  'device.proof.unread': 'proof not checked: {reason}',
  'device.lookupFailed': '{message}',

  'error.credential-not-on-roll': 'This credential is not on the roll of this election.',
  'error.election-not-open': 'The election is not open yet.',
  'error.election-closed': 'The election is closed.',
  'error.invalid-selections': 'The server refused the choices: {message}',
  'error.bad-signature': 'The server could not verify the signature of the ballot.',
  'error.rate-limited': 'Too many attempts; wait a minute and try again.',
  'error.unavailable': 'The ledger is temporarily unavailable; your ballot was not recorded. Try again in a moment.',
  'error.overloaded': 'The ledger is busy; your ballot was not recorded. Try again in a moment.',
  'error.not-found': 'No receipt has this hash.',
  'error.unknown-election': 'There is no such election.',

  'check.heading': 'Check my receipt',
  'check.intro':
    'The page fetches the proof for your receipt, checks the receipt signature, recomputes the Merkle root from your ballot hash and reads the anchored root directly from the chain.',
  'check.hashLabel': 'Receipt hash (64 hexadecimal characters)',
  'check.fileLabel': 'or open a receipt file',
  'check.submit': 'Check',
  'check.again': 'Check again',
  'check.badHash': 'A receipt hash is 64 hexadecimal characters (0–9, a–f).',
  'check.badFile': 'This file is not a Tallyproof receipt.',
  'check.settings': 'Chain settings',
  'check.rpcLabel': 'Chain JSON-RPC URL',
  'check.rpcHelp': 'Any node of the chain will do; the page reads the anchored root from it directly.',
  'check.contractLabel': 'TallyAnchor contract address',
  'check.contractHelp': 'Compare it with the address published by the electoral body.',
  'check.badge.pending': 'pending',
  'check.badge.sealed': 'sealed',
  'check.badge.anchored': 'anchored',
  'check.status.pending': 'Pending: recorded in the ledger, not yet sealed into a window.',
  'check.status.sealed': 'Sealed in window {index}, waiting for its anchoring transaction.',
  'check.status.anchored': 'Anchored on chain.',
  'check.waiting': 'Checking again automatically every few seconds…',
  'check.ok': 'Verified: your ballot is in the tree whose root is anchored on chain.',
  'check.okPlain': 'Your ballot is in the ballot box and sealed into the public record since {when}.',
  'check.okSealed': 'So far so good: the receipt and the proof are consistent, but the root is not on chain yet.',
  'check.okPending': 'The receipt is valid; the proof will exist once the ballot is sealed.',
  'check.failed': 'Verification FAILED: {reason}',
  'check.failedAdvice':
    'Keep your receipt file and report this to the electoral body: the server gave a proof that does not match what is on the chain.',
  'check.serverSays': 'Status reported by the server:',
  'check.step.receipt': 'Receipt signed by the ledger key',
  'check.step.file': 'Receipt identical to the one you kept',
  'check.step.proof': 'Inclusion proof well formed (leaf index {leaf}, tree of {count})',
  'check.step.serverRoot': 'Proof leads to the root the server reports',
  'check.step.chainWindow': 'Window {index} read from the chain: seqs {first}–{last}',
  'check.step.chainRoot': 'Proof leads to the root anchored on chain',
  'check.step.tx': 'Anchoring transaction {tx} in block {block}',
  'check.fail.receipt': 'the receipt signature does not verify with the ledger key of election “{id}”.',
  'check.fail.file': 'the server returned a receipt that differs from your file.',
  'check.fail.hash': 'the server returned a receipt for another ballot hash.',
  'check.fail.proof': 'the inclusion proof is malformed ({message}).',
  'check.fail.serverRoot': 'the inclusion proof does not lead to the root the server reports for window {index}.',
  'check.fail.chainRoot':
    'the inclusion proof does not lead to the root anchored on chain for window {index}. The ballot hash, its position or the audit path was altered.',
  'check.fail.chainWindow': 'the server and the chain disagree on window {index} (seqs or size).',
  'check.fail.noWindow': 'window {index} is not anchored on chain, although the server says it is.',
  'check.fail.chain': 'the chain could not be read: {message}',
  'check.fail.noRpc': 'no chain JSON-RPC URL: enter one under “Chain settings”.',
  'check.fail.noContract': 'no contract address: enter it under “Chain settings”.',
  'check.fail.tx': 'the anchoring transaction {tx} is not the one on chain.',
  // Sharded elections (docs/protocol.md section 13): the shard, and the window's record in its anchor interval.
  'check.step.shard': 'Receipt names shard {shard} of the election’s {shards}',
  'check.step.shardCredential': 'Shard {expected} is the one your credential falls in',
  'check.step.intervalProof': 'Window record proof well formed (record {record}, interval of {count} windows)',
  'check.step.serverIntervalRoot': 'Window record leads to the interval root the server reports',
  'check.step.chainInterval': 'Interval {index} read from the chain: {windows} windows, {ballots} ballots',
  'check.step.chainIntervalRoot':
    'Window {index} of shard {shard} leads to the root anchored on chain for interval {interval}',
  'check.fail.shards': 'the election names an invalid number of shards ({shards}).',
  'check.fail.shardUnexpected': 'the receipt names shard {shard}, but this election is not split into shards.',
  'check.fail.noShard': 'the receipt names no shard, but this election is split into {shards} shards.',
  'check.fail.shardRange': 'the receipt names shard {shard}, but this election has shards 0 to {last} only.',
  'check.fail.shardCredential': 'the receipt names shard {shard}, but your credential falls in shard {expected}.',
  'check.fail.windowShard':
    'the proof is for window {index} of shard {got}, not of shard {shard} named by the receipt.',
  'check.fail.noIntervalProof':
    'the server says window {index} is anchored but gives no proof of its place in an anchor interval.',
  'check.fail.noInterval': 'interval {index} is not anchored on chain, although the server says it is.',
  'check.fail.chainInterval': 'the server and the chain disagree on interval {index} (number of windows or ballots).',
  'check.fail.intervalProof': 'the proof of the window in its interval is malformed ({message}).',
  'check.fail.serverIntervalRoot':
    'the proof of the window in its interval does not lead to the root the server reports for interval {index}.',
  'check.fail.chainIntervalRoot':
    'the proof does not lead to the root anchored on chain for interval {interval} (window {index} of shard {shard}). The ballot hash, its window or an audit path was altered.',
  'check.status.sealedShard': 'Sealed in window {index} of shard {shard}, waiting for its anchoring transaction.',
  'check.shard': 'Shard',
  'check.interval': 'Anchor interval',
  'check.chainIntervalRoot': 'Interval root on chain',
  'check.txUnknown': 'The node does not know transaction {tx}.',
  'check.chainRoot': 'Root on chain',
  'check.cli': 'Check it again with the independent verifier:',
  'check.anchoredAt': 'Anchored at',
  'check.tx': 'Transaction',
  'check.block': 'Block',
  'check.window': 'Window',
  'check.tilesLabel': 'Tiles URL (C2SP tlog-tiles)',
  'check.tilesHelp':
    'Where the page reads the windows’ tiles to compute the proof itself: this server’s /api/v1/elections/ when empty, or a CDN or mirror serving the same paths.',
  'check.step.viaTiles': 'Proof computed by this page from the window’s tiles at {base}, not taken from the server',
  'check.step.viaTilesShard':
    'Window proof computed by this page from the tiles at {base}; the window’s place in its interval is the server’s proof (there are no interval tiles)',
  'check.step.viaBundleNoChain':
    'The chain could not be read to find the window ({message}): the server’s proof is used',
  'check.step.viaBundleNoSettings':
    'No chain JSON-RPC URL or contract address to find the window with: the server’s proof is used',
  'check.step.notAnchoredYet':
    'No window anchored on chain holds seq {seq} yet: the server’s proof is used until one does',
  'check.step.tilesUnread': 'The tiles could not be read ({message}): the server’s proof is used',
  'check.step.noBundle':
    'The server gave no proof bundle ({message}): your receipt file is checked against the tiles and the chain',
  'check.step.tileLeaf': 'The tiles hold your ballot at leaf {leaf} of window {index}',
  'check.step.tilesProof': 'Inclusion proof computed from {tiles} tiles (leaf index {leaf}, tree of {count})',
  'check.step.tilesRoot': 'Proof computed from the tiles leads to the root anchored on chain',
  'check.step.bundleWindowRoot': 'The server’s proof leads to the same window root',
  'check.fail.tiles': 'the tiles read at {base} are malformed ({message}).',
  'check.fail.tilesUnread': 'the tiles could not be read ({message}) and the server gave no proof bundle.',
  'check.fail.tileLeaf': 'the tiles hold another ballot at seq {seq} of window {index}.',
  'check.fail.tilesRoot':
    'the proof computed from the tiles does not lead to the root anchored on chain for window {index}. The tiles or the ledger were altered.',
  'check.fail.bundleWindowRoot':
    'the server’s proof of window {index} of shard {shard} leads to another root than the anchored one.',
  'check.fail.noBundle':
    'the server gave no proof bundle ({message}), and the chain alone does not show seq {seq} anchored yet.',

  'results.title': 'Results',
  'results.pick': 'Which election?',
  'results.live': 'Live',
  'results.reconnecting': 'Reconnecting…',
  'results.total': 'Ballots counted',
  'results.anchored': 'Ballots anchored on chain',
  'results.asOf': 'Up to ledger position {seq}',
  'results.votes': '{n} votes',
  'results.vote1': '1 vote',
  'results.percentOf': '{percent}% of ballots',
  'results.rule': 'Up to {max} choices per ballot',
  'results.blank': 'Blank',
  'results.basis': 'Percentages of the {n} ballots counted in this contest.',
  'results.basis1': 'Percentages of the 1 ballot counted in this contest.',
  'results.windows': 'Anchored windows',
  'results.windowsIntro':
    'Every window is a Merkle tree of consecutive ballots; its root is written to the TallyAnchor contract. The last column is read from the chain by this page.',
  'results.noWindows': 'No window anchored yet.',
  'results.windowsShown': 'The newest {shown} of {total} windows; the verifier checks them all.',
  'results.window': 'Window {index}',
  'results.seqs': 'Ballots',
  'results.range': 'seq {first} to {last} ({count})',
  'results.root': 'Root',
  'results.tx': 'Transaction',
  'results.block': 'Block',
  'results.onChain': 'On chain',
  'results.chainMatch': 'same root on chain ✓',
  'results.chainMismatch': 'DIFFERENT root on chain: {root} ✗',
  'results.chainMissing': 'not found on chain ✗',
  'results.chainUnread': 'not read ({message})',
  'results.notAnchored': 'sealed, not anchored yet',
  // A sharded election (docs/protocol.md 13.4): anchor intervals instead of windows.
  'results.intervals': 'Anchor intervals',
  'results.intervalsIntro':
    'This election’s ballots are kept in several shards. At each anchoring, every shard’s new windows are gathered into one interval: a Merkle tree of their records (shard, window, ballots, root), whose root is written to the TallyAnchor contract. This page recomputes each interval’s root from its records and compares it, and its counts, with the chain.',
  'results.noIntervals': 'No interval anchored yet.',
  'results.intervalsShown': 'The newest {shown} of {total} intervals; the verifier checks them all.',
  'results.interval': 'Interval {index}',
  'results.intervalBallots': '{ballots} ballots in {windows} windows',
  'results.intervalRecords': 'Windows in this interval',
  'results.intervalRecord': 'shard {shard}, window {window}: seq {first} to {last} ({count})',
  'results.intervalRecordsMore': '… and {more} more; the verifier checks them all.',
  'results.interval.verified': 'root recomputed from its windows: same root and counts on chain ✓',
  'results.interval.pending': 'sealed, not anchored yet',
  'results.interval.fail.records': 'its window records are malformed: {message} ✗',
  'results.interval.fail.server': 'the server’s root or counts are not those of its own window records ✗',
  'results.interval.fail.missing': 'not found on chain, although the server says it is anchored ✗',
  'results.interval.fail.counts':
    'the chain holds {windows} windows and {ballots} ballots, the records {ownWindows} and {ownBallots} ✗',
  'results.interval.fail.root': 'DIFFERENT root on chain: {root}; the records give another ✗',
  'results.verifyHeading': 'What is verified, and how to verify it yourself',
  'results.verify1': 'Each ballot is signed by a credential on the roll; the ledger signs a receipt for it.',
  'results.verify2':
    'Ballots are sealed into windows; the Merkle root of each window is anchored in the TallyAnchor contract on the chain, where nobody can change it afterwards.',
  'results.verify3':
    'A voter checks with the receipt hash that the ballot is in an anchored tree (“Check my receipt” on the voting page).',
  'results.verify4':
    'This tally is computed by the server. An auditor recounts it from the public ledger and checks every window root and the roll against the chain with the independent verifier:',
  'results.verify5':
    'See docs/auditors.md in the Tallyproof source for the options and how to read the findings, and docs/observers.md for reading the roots with any EVM client.',
  'results.unknown': 'There is no election “{id}”.',
  'results.none': 'No ballots yet.',
  'results.closeHeading': 'Final result',
  'results.closedAt': 'Closed',
  'results.closedEarly': '(closed early; scheduled for {when})',
  'results.resultHash': 'Result hash',
  'results.resultBallots': 'Ballots in the result',
  'results.resultPending': 'not taken yet: the result is taken at the close, within a minute of it',
  'results.closeOnChain': 'On the public chain',
  'results.onChainDone': 'recorded: the result can no longer change',
  'results.closeTx': 'Close transaction',
  'results.closeTxPending': 'waiting for the chain to confirm closeElection',
  'results.closeTxAfterResult': 'sent once the result is taken',
  'results.auditIntro':
    'The verifier recounts the public ledger and checks the count against this result hash and the closeElection record on the chain.',
  'results.auditLink': 'How to audit this result yourself',
  // Encrypted elections (docs/protocol.md section 12): the voter page.
  'v2.secretNote':
    'This election has secret ballots: your choices are encrypted on this device before they leave it. Nobody can read a single ballot, not the server and not whoever issued your credential; only the count of all the ballots is decrypted, by {k} of the {n} trustees together.',
  'v2.ceremonyPending':
    'Voting is not possible yet: the trustees have not finished creating the election key (key ceremony in progress). Come back later.',
  'v2.encrypting': 'Encrypting your ballot and proving it is well formed… {percent}%',
  'v2.progressLabel': 'Encryption progress',
  'v2.encryptFailed': 'Your ballot could not be encrypted: {message}',
  'v2.encryptAgain': 'Encrypt again',
  'v2.readyTitle': 'Your ballot is encrypted and signed.',
  'v2.readyHash': 'Its ballot hash, which your receipt will show if you cast it:',
  'v2.choose':
    'You can cast it now, or audit it first: an audited ballot is opened on this page to show what it encrypts, then thrown away and never cast; your choices are then encrypted again, with a new ballot hash.',
  'v2.cast': 'Cast this ballot',
  'v2.casting': 'Sending…',
  'v2.audit': 'Audit it (it will not be cast)',
  'v2.auditTitle': 'Audited ballot: opened, thrown away, never cast.',
  'v2.auditOk': 'The encryption matches your choices.',
  'v2.auditMismatch':
    'The opened ballot encrypts other choices than the ones you made. Do not cast a ballot from this device, and report it to the electoral body.',
  'v2.auditBad':
    'The opening does not check ({reason}). Do not cast a ballot from this device, and report it to the electoral body.',
  'v2.auditEncrypted': 'What it encrypted',
  'v2.auditHash': 'Ballot hash of the audited ballot',
  'v2.auditDownload': 'Download the opening (JSON)',
  'v2.auditCli': 'Anyone can check the opening file with the independent verifier:',
  'v2.auditNext': 'Below is a new encryption of your choices, with new randomness and a new ballot hash.',
  'v2.neverCast': 'This ballot was audited: it can never be cast.',

  // Encrypted elections: the results page.
  'v2.results.pending': 'Counts will be published after the trustees decrypt ({k} of {n}).',
  'v2.results.waiting': 'The election is closed; {received} of the {k} trustees needed have decrypted so far.',
  'v2.results.turnout':
    'The number of ballots is live; no count is known before the decryption, not even to the server.',
  'v2.results.heading': 'Check of the decrypted count',
  'v2.results.checking': 'This page is checking the decryption… {percent}%',
  'v2.results.progressLabel': 'Progress of the check',
  'v2.results.verified': 'Verified ✓',
  'v2.results.verifiedBody':
    'This page checked the count itself: it recomputed the election key from the trustees’ commitments, checked the hash of the aggregate of all the ballots, verified the {shares} decryption shares of {trustees} against their verification keys, combined them and found exactly the published counts.',
  'v2.results.notVerified': 'Not verified ✗',
  'v2.results.notVerifiedBody': 'The published count does not check: {reason}',
  'v2.results.unchecked': 'The count could not be checked just now: {message}',
  'v2.results.retry': 'Check again',
  'v2.results.fullAudit':
    'This page does not re-verify every ballot. The full audit (every ballot’s proofs, the aggregate, every decryption share and the counts) is done by the independent verifier:',
  'v2.results.noBlank': 'Blank votes are encrypted like the others: they are not counted separately.',
  'v2.results.resultPending': 'not taken yet: the result is taken once the trustees have decrypted the count',
  'v2.fail.manifest': 'the election is not an encrypted (version 2) election',
  'v2.fail.trustees': 'the transcript names other trustees or another threshold than the manifest',
  'v2.fail.keygen-missing': 'trustee {trustee} has no key-generation commitment in the transcript',
  'v2.fail.keygen-signature': 'the key-generation commitment of {trustee} is not signed by its key',
  'v2.fail.keygen-commitments': 'the commitments of {trustee} are malformed',
  'v2.fail.keygen-proof': 'the proof of knowledge ({purpose}) of {trustee} does not verify',
  'v2.fail.public-key': 'the election key published ({where}) is not the one the trustees’ commitments give',
  'v2.fail.verification-key': 'the verification key published for {trustee} is not the one the commitments give',
  'v2.fail.aggregate-shape': 'the aggregate is malformed ({what})',
  'v2.fail.aggregate-hash': 'the aggregate is not the one the trustees decrypted (its hash differs)',
  'v2.fail.total-ballots': 'the decryption counts {decryption} ballots, the aggregate {aggregate}',
  'v2.fail.decryption-trustees':
    'the decryption does not name {threshold} distinct trustees of the election ({trustees})',
  'v2.fail.decrypt-missing': 'trustee {trustee} has no decryption in the transcript',
  'v2.fail.decrypt-signature': 'the decryption of {trustee} is not signed by its key',
  'v2.fail.decrypt-aggregate-hash': 'the decryption of {trustee} is for another aggregate',
  'v2.fail.share-invalid': 'the share of {trustee} for {contest}/{choice} is not a group element',
  'v2.fail.share-proof': 'the decryption share of {trustee} for {contest}/{choice} does not verify',
  'v2.fail.no-count': 'the shares for {contest}/{choice} combine to no count between 0 and the number of ballots',
  'v2.fail.count-mismatch':
    'the count published for {contest}/{choice} ({published}) is not the decrypted one ({computed})',
  'v2.fail.shown-tally': 'the counts shown are not the decrypted ones',
  'v2.fail.result-hash': 'the result hash of the election is not the hash of these counts',
} as const;

export type Key = keyof typeof en;

const fr: Record<Key, string> = {
  skip: 'Aller au contenu principal',
  'nav.vote': 'Voter',
  'nav.check': 'Vérifier mon reçu',
  'nav.results': 'Résultats',
  'lang.label': 'Langue',
  'common.load': 'Charger',
  'common.working': 'En cours…',
  'common.yes': 'oui',
  'common.no': 'non',
  'common.none': 'aucun',
  'common.networkError': 'Le serveur est injoignable : {message}',
  'common.apiError': '{message} ({code})',
  'common.details': 'Détails',

  'voter.title': 'Voter',
  'voter.intro':
    'Votre bulletin est signé sur cet appareil avec votre identifiant de vote ; la clé ne quitte jamais la page. Vous recevez un reçu signé et pourrez vérifier que votre bulletin est dans un arbre dont la racine est inscrite sur la chaîne publique.',
  'election.heading': '1. Scrutin',
  'election.idLabel': 'Identifiant du scrutin',
  'election.idHelp': 'Lettres minuscules, chiffres et tirets, tel qu’il figure sur votre avis de vote.',
  'election.invalidId': 'Cet identifiant de scrutin n’est pas valide.',
  'election.notFound': 'Il n’existe pas de scrutin « {id} ».',
  'election.status.scheduled': 'Pas encore ouvert',
  'election.status.open': 'Ouvert',
  'election.status.closed': 'Clos',
  'election.opens': 'Ouverture',
  'election.closes': 'Clôture',
  'election.manifestHash': 'Empreinte du manifeste',
  'election.contract': 'Contrat',
  'election.chain': 'Identifiant de chaîne',
  'election.resultsLink': 'Résultats en direct de ce scrutin',
  'election.notOpen': 'Le vote n’a pas commencé : il ouvre {when}. Vous pouvez déjà préparer votre identifiant.',
  'election.closedNote':
    'Ce scrutin est clos : plus aucun bulletin n’est accepté. Vous pouvez encore vérifier un reçu.',
  'election.closed': 'Clôturé',
  'election.scheduledClose': '(clôture prévue le {when})',
  'election.closedOn':
    'Ce scrutin a été clos le {when} : plus aucun bulletin n’est accepté. Vous pouvez encore vérifier un reçu.',

  'cred.heading': '2. Votre identifiant de vote',
  'cred.how': 'Comment voulez-vous charger votre identifiant ?',
  'cred.mode.paste': 'Coller ma clé privée',
  'cred.mode.file': 'Ouvrir mon fichier d’identifiants',
  'cred.mode.secret': 'La dériver de mon secret d’électeur',
  'cred.pasteLabel': 'Clé privée (64 caractères hexadécimaux)',
  'cred.pasteHelp':
    'La graine de 32 octets qui vous a été remise, ou une ligne {"credential":…,"seed":…} d’un fichier d’identifiants.',
  'cred.use': 'Utiliser cette clé',
  'cred.fileLabel': 'Fichier d’identifiants (une ligne JSON par électeur)',
  'cred.lineLabel': 'Identifiant dans le fichier',
  'cred.lineNumberLabel': 'Numéro de ligne (1 à {n})',
  'cred.useLine': 'Utiliser cette ligne',
  'cred.fileEmpty': 'Le fichier ne contient aucune ligne d’identifiant.',
  'cred.fileBadLine': 'La ligne {n} n’est pas une ligne d’identifiant {"credential":HEX,"seed":HEX}.',
  'cred.secretLabel': 'Secret d’électeur',
  'cred.secretHelp':
    'Exactement tel qu’il vous a été remis (par exemple NAS|code). Il est étiré avec scrypt dans votre navigateur ; cela prend quelques secondes.',
  'cred.derive': 'Dériver mon identifiant',
  'cred.deriving': 'Dérivation… {percent} %',
  'cred.progressLabel': 'Progression de la dérivation',
  'cred.derived': 'Dérivé.',
  'cred.badSeed': 'Une clé privée compte 64 caractères hexadécimaux (0–9, a–f).',
  'cred.mismatch': 'Cette clé privée ne correspond pas à l’identifiant {credential}.',
  'cred.emptySecret': 'Saisissez votre secret d’électeur.',
  'cred.loaded': 'Identifiant chargé. Votre identifiant public est :',
  'cred.ready': 'Identifiant chargé : vous pouvez faire vos choix.',
  'cred.needElection': 'Chargez d’abord le scrutin : un identifiant dérivé en dépend.',
  'cred.checking': 'Vérification de la présence de cet identifiant sur la liste électorale de ce scrutin…',
  'cred.onRoll': 'Cet identifiant figure sur la liste électorale de ce scrutin.',
  'cred.unchecked':
    'Cet identifiant n’a pas pu être vérifié sur la liste électorale de ce scrutin pour l’instant. Vous pouvez continuer : le registre le vérifiera quand vous voterez.',
  'cred.notOnRoll':
    'Cette clé ne figure pas sur la liste électorale de ce scrutin. Vérifiez que c’est bien la clé qui vous a été remise pour ce scrutin.',
  'cred.notOnRollSecret':
    'La clé dérivée de ce secret d’électeur ne figure pas sur la liste électorale de ce scrutin. Le secret est peut-être mal saisi : vérifiez-le caractère par caractère (majuscules, espaces et ponctuation comptent), puis dérivez à nouveau.',

  'choices.heading': '3. Vos choix',
  'choices.pickOne': 'Choisissez une réponse.',
  'choices.pickOneOrNone': 'Choisissez une réponse, ou aucune pour voter blanc.',
  'choices.pickExactly': 'Choisissez exactement {n} réponses.',
  'choices.pickRange': 'Choisissez de {min} à {max} réponses.',
  'choices.pickUpTo': 'Choisissez jusqu’à {max} réponses (aucune : vote blanc).',
  'choices.blank': 'Aucun choix (vote blanc)',
  'choices.count': '{n} sur {max} choisies.',
  'choices.tooFew': '« {contest} » : choisissez au moins {min} réponse(s).',
  'choices.tooMany': '« {contest} » : choisissez au plus {max} réponse(s).',
  'choices.review': 'Relire mon bulletin',
  'choices.fix': 'Veuillez corriger vos choix :',

  'review.heading': '4. Relire et voter',
  'review.intro':
    'Vérifiez vos choix. Voter signe le bulletin avec votre identifiant et l’envoie ; un identifiant ne peut déposer qu’un seul bulletin.',
  'review.blank': 'Vote blanc',
  'review.credential': 'Identifiant',
  'review.edit': 'Modifier mes choix',
  'review.cast': 'Signer et déposer mon bulletin',
  'review.casting': 'Signature et envoi…',

  'receipt.heading': '5. Votre reçu',
  'receipt.accepted': 'Votre bulletin a été enregistré.',
  'receipt.again': 'Ce bulletin était déjà enregistré ; voici de nouveau son reçu.',
  'receipt.hash': 'Empreinte du reçu (empreinte du bulletin)',
  'receipt.seq': 'Position dans le registre',
  'receipt.receivedAt': 'Reçu le',
  'receipt.signatureOk': 'Le reçu est signé par la clé du registre de ce scrutin.',
  'receipt.signatureBad': 'Attention : la signature du reçu NE se vérifie PAS avec la clé du registre de ce scrutin.',
  'receipt.hashMismatch':
    'Attention : le reçu indique l’empreinte {got}, mais le bulletin envoyé a pour empreinte {expected}.',
  'receipt.promise': 'Le registre s’engage à l’ancrer sur la chaîne sous {seconds} secondes.',
  'receipt.download': 'Télécharger mon reçu (JSON)',
  'receipt.check': 'Vérifier mon reçu maintenant',
  'receipt.keep': 'Conservez l’empreinte du reçu : elle permet de vérifier votre bulletin sans révéler votre vote.',
  'receipt.inBox': 'Votre bulletin est dans l’urne depuis le {when}.',

  'dup.title': 'Cet identifiant a déjà voté.',
  'dup.body':
    'Le registre garde le premier bulletin de chaque identifiant. Cette tentative a été refusée (tentatives refusées avec cet identifiant : {n}).',
  'dup.original': 'Reçu du bulletin déjà enregistré :',

  'offline.savedTitle': 'Votre bulletin est signé et enregistré sur cet appareil.',
  'offline.savedBody':
    'Il n’a pas encore atteint l’urne ({reason}). Il sera envoyé de lui-même au retour du réseau, tant que cette page est ouverte ou à sa prochaine ouverture ; l’envoyer deux fois est sans conséquence.',
  'offline.youAreOffline': 'vous êtes hors ligne',
  'offline.notSaved':
    'Le bulletin n’a pas pu être enregistré sur cet appareil : connectez-vous au réseau et déposez-le de nouveau.',
  'offline.keyCleared': 'Votre clé privée a été effacée de cette page.',
  'offline.lateTitle': 'Votre bulletin n’a pas été compté.',
  'device.heading': 'Sur cet appareil',
  'device.pendingHeading': 'Bulletins en attente d’envoi',
  'device.pendingItem': 'Bulletin signé pour « {title} », enregistré le {when}.',
  'device.sendNow': 'Envoyer maintenant',
  'device.sendAllNow': 'Envoyer maintenant les bulletins en attente',
  'device.sending': 'Envoi…',
  'device.lastError': 'Pas encore envoyé : {message}',
  'device.late': 'Le scrutin a été clos le {when}, avant que votre bulletin n’atteigne l’urne ; il n’a pas été compté.',
  'device.duplicateAnswer': 'Non compté : cet identifiant avait déjà déposé un autre bulletin.',
  'device.refused': 'Refusé par le registre : {message}',
  'device.badReceipt':
    'Le serveur a répondu par un reçu qui n’est pas celui de ce bulletin, ou qui n’est pas signé par la clé de son registre.',
  'device.dismiss': 'Masquer',
  'device.receiptsHeading': 'Reçus sur cet appareil',
  'device.election': 'Scrutin',
  'device.check': 'Vérifier ce reçu',
  'device.proof.none': 'preuve pas encore vérifiée',
  'device.proof.pending': 'preuve : en attente de sa fenêtre',
  'device.proof.sealed': 'preuve : scellée, en attente de son ancrage',
  'device.proof.verified': 'preuve vérifiée sur la chaîne',
  'device.proof.unread': 'preuve non vérifiée : {reason}',
  'device.lookupFailed': '{message}',

  'error.credential-not-on-roll': 'Cet identifiant ne figure pas sur la liste électorale de ce scrutin.',
  'error.election-not-open': 'Le scrutin n’est pas encore ouvert.',
  'error.election-closed': 'Le scrutin est clos.',
  'error.invalid-selections': 'Le serveur a refusé les choix : {message}',
  'error.bad-signature': 'Le serveur n’a pas pu vérifier la signature du bulletin.',
  'error.rate-limited': 'Trop de tentatives ; attendez une minute et réessayez.',
  'error.unavailable':
    'Le registre est momentanément indisponible ; votre bulletin n’a pas été enregistré. Réessayez dans un instant.',
  'error.overloaded': 'Le registre est surchargé ; votre bulletin n’a pas été enregistré. Réessayez dans un instant.',
  'error.not-found': 'Aucun reçu ne porte cette empreinte.',
  'error.unknown-election': 'Ce scrutin n’existe pas.',

  'check.heading': 'Vérifier mon reçu',
  'check.intro':
    'La page récupère la preuve de votre reçu, vérifie la signature du reçu, recalcule la racine de Merkle à partir de l’empreinte de votre bulletin et lit la racine ancrée directement sur la chaîne.',
  'check.hashLabel': 'Empreinte du reçu (64 caractères hexadécimaux)',
  'check.fileLabel': 'ou ouvrez un fichier de reçu',
  'check.submit': 'Vérifier',
  'check.again': 'Vérifier de nouveau',
  'check.badHash': 'Une empreinte de reçu compte 64 caractères hexadécimaux (0–9, a–f).',
  'check.badFile': 'Ce fichier n’est pas un reçu Tallyproof.',
  'check.settings': 'Réglages de la chaîne',
  'check.rpcLabel': 'URL JSON-RPC de la chaîne',
  'check.rpcHelp': 'N’importe quel nœud de la chaîne convient ; la page y lit directement la racine ancrée.',
  'check.contractLabel': 'Adresse du contrat TallyAnchor',
  'check.contractHelp': 'Comparez-la avec l’adresse publiée par l’autorité électorale.',
  'check.badge.pending': 'en attente',
  'check.badge.sealed': 'scellé',
  'check.badge.anchored': 'ancré',
  'check.status.pending': 'En attente : enregistré dans le registre, pas encore scellé dans une fenêtre.',
  'check.status.sealed': 'Scellé dans la fenêtre {index}, en attente de sa transaction d’ancrage.',
  'check.status.anchored': 'Ancré sur la chaîne.',
  'check.waiting': 'Nouvelle vérification automatique toutes les quelques secondes…',
  'check.ok': 'Vérifié : votre bulletin est dans l’arbre dont la racine est ancrée sur la chaîne.',
  'check.okPlain': 'Votre bulletin est dans l’urne et scellé dans le registre public depuis le {when}.',
  'check.okSealed':
    'Pour l’instant tout concorde : le reçu et la preuve sont cohérents, mais la racine n’est pas encore sur la chaîne.',
  'check.okPending': 'Le reçu est valide ; la preuve existera une fois le bulletin scellé.',
  'check.failed': 'Échec de la vérification : {reason}',
  'check.failedAdvice':
    'Gardez votre fichier de reçu et signalez-le à l’autorité électorale : le serveur a fourni une preuve qui ne correspond pas à ce qui est inscrit sur la chaîne.',
  'check.serverSays': 'État annoncé par le serveur :',
  'check.step.receipt': 'Reçu signé par la clé du registre',
  'check.step.file': 'Reçu identique à celui que vous avez gardé',
  'check.step.proof': 'Preuve d’inclusion bien formée (indice de feuille {leaf}, arbre de {count})',
  'check.step.serverRoot': 'La preuve mène à la racine annoncée par le serveur',
  'check.step.chainWindow': 'Fenêtre {index} lue sur la chaîne : positions {first} à {last}',
  'check.step.chainRoot': 'La preuve mène à la racine ancrée sur la chaîne',
  'check.step.tx': 'Transaction d’ancrage {tx} dans le bloc {block}',
  'check.fail.receipt': 'la signature du reçu ne se vérifie pas avec la clé du registre du scrutin « {id} ».',
  'check.fail.file': 'le serveur a renvoyé un reçu différent de votre fichier.',
  'check.fail.hash': 'le serveur a renvoyé le reçu d’un autre bulletin.',
  'check.fail.proof': 'la preuve d’inclusion est mal formée ({message}).',
  'check.fail.serverRoot':
    'la preuve d’inclusion ne mène pas à la racine annoncée par le serveur pour la fenêtre {index}.',
  'check.fail.chainRoot':
    'la preuve d’inclusion ne mène pas à la racine ancrée sur la chaîne pour la fenêtre {index}. L’empreinte du bulletin, sa position ou le chemin d’audit a été modifié.',
  'check.fail.chainWindow': 'le serveur et la chaîne ne concordent pas sur la fenêtre {index} (positions ou taille).',
  'check.fail.noWindow': 'la fenêtre {index} n’est pas ancrée sur la chaîne, bien que le serveur l’affirme.',
  'check.fail.chain': 'la chaîne n’a pas pu être lue : {message}',
  'check.fail.noRpc': 'aucune URL JSON-RPC : indiquez-en une dans « Réglages de la chaîne ».',
  'check.fail.noContract': 'aucune adresse de contrat : indiquez-la dans « Réglages de la chaîne ».',
  'check.fail.tx': 'la transaction d’ancrage {tx} n’est pas celle de la chaîne.',
  'check.step.shard': 'Le reçu nomme la partition {shard} sur les {shards} du scrutin',
  'check.step.shardCredential': 'La partition {expected} est bien celle de votre identifiant',
  'check.step.intervalProof':
    'Preuve de l’enregistrement de la fenêtre bien formée (enregistrement {record}, intervalle de {count} fenêtres)',
  'check.step.serverIntervalRoot':
    'L’enregistrement de la fenêtre mène à la racine d’intervalle annoncée par le serveur',
  'check.step.chainInterval': 'Intervalle {index} lu sur la chaîne : {windows} fenêtres, {ballots} bulletins',
  'check.step.chainIntervalRoot':
    'La fenêtre {index} de la partition {shard} mène à la racine ancrée sur la chaîne pour l’intervalle {interval}',
  'check.fail.shards': 'le scrutin indique un nombre de partitions invalide ({shards}).',
  'check.fail.shardUnexpected': 'le reçu nomme la partition {shard}, mais ce scrutin n’est pas partitionné.',
  'check.fail.noShard': 'le reçu ne nomme aucune partition, mais ce scrutin est partagé en {shards} partitions.',
  'check.fail.shardRange': 'le reçu nomme la partition {shard}, mais ce scrutin n’a que les partitions 0 à {last}.',
  'check.fail.shardCredential':
    'le reçu nomme la partition {shard}, mais votre identifiant relève de la partition {expected}.',
  'check.fail.windowShard':
    'la preuve porte sur la fenêtre {index} de la partition {got}, et non de la partition {shard} nommée par le reçu.',
  'check.fail.noIntervalProof':
    'le serveur affirme que la fenêtre {index} est ancrée, mais ne donne pas la preuve de sa place dans un intervalle d’ancrage.',
  'check.fail.noInterval': 'l’intervalle {index} n’est pas ancré sur la chaîne, bien que le serveur l’affirme.',
  'check.fail.chainInterval':
    'le serveur et la chaîne ne concordent pas sur l’intervalle {index} (nombre de fenêtres ou de bulletins).',
  'check.fail.intervalProof': 'la preuve de la fenêtre dans son intervalle est mal formée ({message}).',
  'check.fail.serverIntervalRoot':
    'la preuve de la fenêtre dans son intervalle ne mène pas à la racine annoncée par le serveur pour l’intervalle {index}.',
  'check.fail.chainIntervalRoot':
    'la preuve ne mène pas à la racine ancrée sur la chaîne pour l’intervalle {interval} (fenêtre {index} de la partition {shard}). L’empreinte du bulletin, sa fenêtre ou un chemin d’audit a été modifié.',
  'check.status.sealedShard':
    'Scellé dans la fenêtre {index} de la partition {shard}, en attente de sa transaction d’ancrage.',
  'check.shard': 'Partition',
  'check.interval': 'Intervalle d’ancrage',
  'check.chainIntervalRoot': 'Racine de l’intervalle sur la chaîne',
  'check.txUnknown': 'Le nœud ne connaît pas la transaction {tx}.',
  'check.chainRoot': 'Racine sur la chaîne',
  'check.cli': 'Vérifiez-le de nouveau avec le vérificateur indépendant :',
  'check.anchoredAt': 'Ancré le',
  'check.tx': 'Transaction',
  'check.block': 'Bloc',
  'check.window': 'Fenêtre',
  'check.tilesLabel': 'URL des tuiles (C2SP tlog-tiles)',
  'check.tilesHelp':
    'Où la page lit les tuiles des fenêtres pour calculer elle-même la preuve : /api/v1/elections/ de ce serveur si le champ est vide, ou un CDN ou un miroir qui sert les mêmes chemins.',
  'check.step.viaTiles':
    'Preuve calculée par cette page à partir des tuiles de la fenêtre lues à {base}, et non reçue du serveur',
  'check.step.viaTilesShard':
    'Preuve de la fenêtre calculée par cette page à partir des tuiles lues à {base} ; la place de la fenêtre dans son intervalle vient de la preuve du serveur (il n’existe pas de tuiles d’intervalle)',
  'check.step.viaBundleNoChain':
    'La chaîne n’a pas pu être lue pour trouver la fenêtre ({message}) : la preuve du serveur est utilisée',
  'check.step.viaBundleNoSettings':
    'Aucune URL JSON-RPC ni adresse de contrat pour trouver la fenêtre : la preuve du serveur est utilisée',
  'check.step.notAnchoredYet':
    'Aucune fenêtre ancrée sur la chaîne ne contient encore la position {seq} : la preuve du serveur est utilisée en attendant',
  'check.step.tilesUnread': 'Les tuiles n’ont pas pu être lues ({message}) : la preuve du serveur est utilisée',
  'check.step.noBundle':
    'Le serveur n’a fourni aucune preuve ({message}) : votre fichier de reçu est vérifié avec les tuiles et la chaîne',
  'check.step.tileLeaf': 'Les tuiles contiennent votre bulletin à la feuille {leaf} de la fenêtre {index}',
  'check.step.tilesProof':
    'Preuve d’inclusion calculée à partir de {tiles} tuiles (indice de feuille {leaf}, arbre de {count})',
  'check.step.tilesRoot': 'La preuve calculée à partir des tuiles mène à la racine ancrée sur la chaîne',
  'check.step.bundleWindowRoot': 'La preuve du serveur mène à la même racine de fenêtre',
  'check.fail.tiles': 'les tuiles lues à {base} sont mal formées ({message}).',
  'check.fail.tilesUnread': 'les tuiles n’ont pas pu être lues ({message}) et le serveur n’a fourni aucune preuve.',
  'check.fail.tileLeaf': 'les tuiles contiennent un autre bulletin à la position {seq} de la fenêtre {index}.',
  'check.fail.tilesRoot':
    'la preuve calculée à partir des tuiles ne mène pas à la racine ancrée sur la chaîne pour la fenêtre {index}. Les tuiles ou le registre ont été modifiés.',
  'check.fail.bundleWindowRoot':
    'la preuve du serveur pour la fenêtre {index} de la partition {shard} mène à une autre racine que celle ancrée.',
  'check.fail.noBundle':
    'le serveur n’a fourni aucune preuve ({message}), et la chaîne seule ne montre pas encore la position {seq} ancrée.',

  'results.title': 'Résultats',
  'results.pick': 'Quel scrutin ?',
  'results.live': 'En direct',
  'results.reconnecting': 'Reconnexion…',
  'results.total': 'Bulletins comptés',
  'results.anchored': 'Bulletins ancrés sur la chaîne',
  'results.asOf': 'Jusqu’à la position {seq} du registre',
  'results.votes': '{n} voix',
  'results.vote1': '1 voix',
  'results.percentOf': '{percent} % des bulletins',
  'results.rule': 'Jusqu’à {max} choix par bulletin',
  'results.blank': 'Blanc',
  'results.basis': 'Pourcentages des {n} bulletins comptés pour cette question.',
  'results.basis1': 'Pourcentages du seul bulletin compté pour cette question.',
  'results.windows': 'Fenêtres ancrées',
  'results.windowsIntro':
    'Chaque fenêtre est un arbre de Merkle de bulletins consécutifs ; sa racine est inscrite dans le contrat TallyAnchor. La dernière colonne est lue sur la chaîne par cette page.',
  'results.noWindows': 'Aucune fenêtre ancrée pour l’instant.',
  'results.windowsShown': 'Les {shown} fenêtres les plus récentes sur {total} ; le vérificateur les contrôle toutes.',
  'results.window': 'Fenêtre {index}',
  'results.seqs': 'Bulletins',
  'results.range': 'positions {first} à {last} ({count})',
  'results.root': 'Racine',
  'results.tx': 'Transaction',
  'results.block': 'Bloc',
  'results.onChain': 'Sur la chaîne',
  'results.chainMatch': 'même racine sur la chaîne ✓',
  'results.chainMismatch': 'racine DIFFÉRENTE sur la chaîne : {root} ✗',
  'results.chainMissing': 'absente de la chaîne ✗',
  'results.chainUnread': 'non lue ({message})',
  'results.notAnchored': 'scellée, pas encore ancrée',
  'results.intervals': 'Intervalles d’ancrage',
  'results.intervalsIntro':
    'Les bulletins de ce scrutin sont répartis en plusieurs partitions. À chaque ancrage, les nouvelles fenêtres de toutes les partitions sont réunies en un intervalle : un arbre de Merkle de leurs enregistrements (partition, fenêtre, bulletins, racine), dont la racine est inscrite dans le contrat TallyAnchor. Cette page recalcule la racine de chaque intervalle à partir de ses enregistrements et la confronte, avec ses décomptes, à la chaîne.',
  'results.noIntervals': 'Aucun intervalle ancré pour l’instant.',
  'results.intervalsShown': 'Les {shown} intervalles les plus récents sur {total} ; le vérificateur les contrôle tous.',
  'results.interval': 'Intervalle {index}',
  'results.intervalBallots': '{ballots} bulletins dans {windows} fenêtres',
  'results.intervalRecords': 'Fenêtres de cet intervalle',
  'results.intervalRecord': 'partition {shard}, fenêtre {window} : positions {first} à {last} ({count})',
  'results.intervalRecordsMore': '… et {more} de plus ; le vérificateur les contrôle toutes.',
  'results.interval.verified':
    'racine recalculée à partir de ses fenêtres : même racine et mêmes décomptes sur la chaîne ✓',
  'results.interval.pending': 'scellé, pas encore ancré',
  'results.interval.fail.records': 'ses enregistrements de fenêtres sont mal formés : {message} ✗',
  'results.interval.fail.server':
    'la racine ou les décomptes du serveur ne sont pas ceux de ses propres enregistrements de fenêtres ✗',
  'results.interval.fail.missing': 'absent de la chaîne, bien que le serveur le dise ancré ✗',
  'results.interval.fail.counts':
    'la chaîne indique {windows} fenêtres et {ballots} bulletins, les enregistrements {ownWindows} et {ownBallots} ✗',
  'results.interval.fail.root': 'racine DIFFÉRENTE sur la chaîne : {root} ; les enregistrements en donnent une autre ✗',
  'results.verifyHeading': 'Ce qui est vérifié, et comment le vérifier vous-même',
  'results.verify1':
    'Chaque bulletin est signé par un identifiant de la liste électorale ; le registre signe un reçu pour chacun.',
  'results.verify2':
    'Les bulletins sont scellés en fenêtres ; la racine de Merkle de chaque fenêtre est ancrée dans le contrat TallyAnchor de la chaîne, où personne ne peut plus la modifier.',
  'results.verify3':
    'Un électeur vérifie avec l’empreinte de son reçu que son bulletin est dans un arbre ancré (« Vérifier mon reçu » sur la page de vote).',
  'results.verify4':
    'Ce décompte est calculé par le serveur. Un auditeur le recompte à partir du registre public et confronte chaque racine et la liste électorale à la chaîne avec le vérificateur indépendant :',
  'results.verify5':
    'Voir docs/auditors.md dans les sources de Tallyproof pour les options et la lecture des constats, et docs/observers.md pour lire les racines avec n’importe quel client EVM.',
  'results.unknown': 'Il n’existe pas de scrutin « {id} ».',
  'results.none': 'Aucun bulletin pour l’instant.',
  'results.closeHeading': 'Résultat final',
  'results.closedAt': 'Clôturé',
  'results.closedEarly': '(clos avant l’heure ; clôture prévue le {when})',
  'results.resultHash': 'Empreinte du résultat',
  'results.resultBallots': 'Bulletins dans le résultat',
  'results.resultPending': 'pas encore établi : le résultat est établi à la clôture, dans la minute qui suit',
  'results.closeOnChain': 'Sur la chaîne publique',
  'results.onChainDone': 'enregistré : le résultat ne peut plus changer',
  'results.closeTx': 'Transaction de clôture',
  'results.closeTxPending': 'en attente de la confirmation de closeElection par la chaîne',
  'results.closeTxAfterResult': 'envoyée une fois le résultat établi',
  'results.auditIntro':
    'Le vérificateur recompte le registre public et confronte le décompte à cette empreinte et à l’enregistrement closeElection de la chaîne.',
  'results.auditLink': 'Comment auditer ce résultat vous-même',
  'v2.secretNote':
    'Ce scrutin est à bulletin secret : vos choix sont chiffrés sur cet appareil avant de le quitter. Personne ne peut lire un bulletin, ni le serveur ni l’émetteur de votre identifiant ; seul le décompte de l’ensemble des bulletins est déchiffré, par {k} des {n} garants ensemble.',
  'v2.ceremonyPending':
    'Le vote n’est pas encore possible : les garants n’ont pas fini de créer la clé du scrutin (cérémonie des clés en cours). Revenez plus tard.',
  'v2.encrypting': 'Chiffrement de votre bulletin et preuve qu’il est bien formé… {percent} %',
  'v2.progressLabel': 'Progression du chiffrement',
  'v2.encryptFailed': 'Votre bulletin n’a pas pu être chiffré : {message}',
  'v2.encryptAgain': 'Chiffrer à nouveau',
  'v2.readyTitle': 'Votre bulletin est chiffré et signé.',
  'v2.readyHash': 'Son empreinte, que votre reçu indiquera si vous le déposez :',
  'v2.choose':
    'Vous pouvez le déposer maintenant, ou l’auditer d’abord : un bulletin audité est ouvert sur cette page pour montrer ce qu’il chiffre, puis jeté et jamais déposé ; vos choix sont alors chiffrés à nouveau, avec une nouvelle empreinte.',
  'v2.cast': 'Déposer ce bulletin',
  'v2.casting': 'Envoi…',
  'v2.audit': 'L’auditer (il ne sera pas déposé)',
  'v2.auditTitle': 'Bulletin audité : ouvert, jeté, jamais déposé.',
  'v2.auditOk': 'Le chiffrement correspond à vos choix.',
  'v2.auditMismatch':
    'Le bulletin ouvert chiffre d’autres choix que les vôtres. Ne déposez pas de bulletin depuis cet appareil et signalez-le à l’autorité électorale.',
  'v2.auditBad':
    'L’ouverture ne se vérifie pas ({reason}). Ne déposez pas de bulletin depuis cet appareil et signalez-le à l’autorité électorale.',
  'v2.auditEncrypted': 'Ce qu’il chiffrait',
  'v2.auditHash': 'Empreinte du bulletin audité',
  'v2.auditDownload': 'Télécharger l’ouverture (JSON)',
  'v2.auditCli': 'Chacun peut vérifier le fichier d’ouverture avec le vérificateur indépendant :',
  'v2.auditNext': 'Ci-dessous, un nouveau chiffrement de vos choix, avec un nouvel aléa et une nouvelle empreinte.',
  'v2.neverCast': 'Ce bulletin a été audité : il ne pourra jamais être déposé.',

  'v2.results.pending': 'Les décomptes seront publiés après le déchiffrement par les garants ({k} sur {n}).',
  'v2.results.waiting': 'Le scrutin est clos ; {received} des {k} garants nécessaires ont déchiffré jusqu’ici.',
  'v2.results.turnout':
    'Le nombre de bulletins est en direct ; aucun décompte n’est connu avant le déchiffrement, pas même du serveur.',
  'v2.results.heading': 'Vérification du décompte déchiffré',
  'v2.results.checking': 'Cette page vérifie le déchiffrement… {percent} %',
  'v2.results.progressLabel': 'Progression de la vérification',
  'v2.results.verified': 'Vérifié ✓',
  'v2.results.verifiedBody':
    'Cette page a vérifié le décompte elle-même : elle a recalculé la clé du scrutin à partir des engagements des garants, vérifié l’empreinte de l’agrégat de tous les bulletins, vérifié les {shares} parts de déchiffrement de {trustees} avec leurs clés de vérification, les a combinées et a retrouvé exactement les décomptes publiés.',
  'v2.results.notVerified': 'Non vérifié ✗',
  'v2.results.notVerifiedBody': 'Le décompte publié ne se vérifie pas : {reason}',
  'v2.results.unchecked': 'Le décompte n’a pas pu être vérifié pour l’instant : {message}',
  'v2.results.retry': 'Vérifier à nouveau',
  'v2.results.fullAudit':
    'Cette page ne revérifie pas chaque bulletin. L’audit complet (les preuves de chaque bulletin, l’agrégat, chaque part de déchiffrement et les décomptes) est fait par le vérificateur indépendant :',
  'v2.results.noBlank': 'Les votes blancs sont chiffrés comme les autres : ils ne sont pas décomptés à part.',
  'v2.results.resultPending':
    'pas encore établi : le résultat est établi une fois le décompte déchiffré par les garants',
  'v2.fail.manifest': 'ce scrutin n’est pas un scrutin chiffré (version 2)',
  'v2.fail.trustees': 'la transcription nomme d’autres garants ou un autre seuil que le manifeste',
  'v2.fail.keygen-missing': 'le garant {trustee} n’a pas d’engagement de génération de clé dans la transcription',
  'v2.fail.keygen-signature': 'l’engagement de génération de clé de {trustee} n’est pas signé par sa clé',
  'v2.fail.keygen-commitments': 'les engagements de {trustee} sont mal formés',
  'v2.fail.keygen-proof': 'la preuve de connaissance ({purpose}) de {trustee} ne se vérifie pas',
  'v2.fail.public-key': 'la clé du scrutin publiée ({where}) n’est pas celle que donnent les engagements des garants',
  'v2.fail.verification-key':
    'la clé de vérification publiée pour {trustee} n’est pas celle que donnent les engagements',
  'v2.fail.aggregate-shape': 'l’agrégat est mal formé ({what})',
  'v2.fail.aggregate-hash': 'l’agrégat n’est pas celui que les garants ont déchiffré (son empreinte diffère)',
  'v2.fail.total-ballots': 'le déchiffrement compte {decryption} bulletins, l’agrégat {aggregate}',
  'v2.fail.decryption-trustees': 'le déchiffrement ne nomme pas {threshold} garants distincts du scrutin ({trustees})',
  'v2.fail.decrypt-missing': 'le garant {trustee} n’a pas de déchiffrement dans la transcription',
  'v2.fail.decrypt-signature': 'le déchiffrement de {trustee} n’est pas signé par sa clé',
  'v2.fail.decrypt-aggregate-hash': 'le déchiffrement de {trustee} porte sur un autre agrégat',
  'v2.fail.share-invalid': 'la part de {trustee} pour {contest}/{choice} n’est pas un élément du groupe',
  'v2.fail.share-proof': 'la part de déchiffrement de {trustee} pour {contest}/{choice} ne se vérifie pas',
  'v2.fail.no-count': 'les parts pour {contest}/{choice} ne donnent aucun décompte entre 0 et le nombre de bulletins',
  'v2.fail.count-mismatch':
    'le décompte publié pour {contest}/{choice} ({published}) n’est pas celui déchiffré ({computed})',
  'v2.fail.shown-tally': 'les décomptes affichés ne sont pas ceux déchiffrés',
  'v2.fail.result-hash': 'l’empreinte du résultat du scrutin n’est pas celle de ces décomptes',
};

const DICTS: Record<Lang, Record<Key, string>> = { en, fr };
const STORAGE_KEY = 'tallyproof.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'fr') return saved;
  } catch {
    // storage blocked: fall through
  }
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const base = (l ?? '').toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'en';
}

let current: Lang = initialLang();
const listeners: (() => void)[] = [];

export function lang(): Lang {
  return current;
}

/** The text of `key` in the current language, `{name}` replaced from `params`. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = DICTS[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : m));
}

/** Dates and numbers in the page's language; a time always names its time zone (timeStyle 'long': "14:02:03 CET"). */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(current === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium', timeStyle: 'long' });
}

export function formatNumber(n: number, fractionDigits = 0): string {
  return n.toLocaleString(current === 'fr' ? 'fr-FR' : 'en-GB', {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  });
}

/** Fill data-i18n / data-i18n-attr under `root`. */
export function applyStatic(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as Key);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of (el.dataset.i18nAttr ?? '').split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim() as Key));
    }
  }
}

export function onLanguageChange(fn: () => void): void {
  listeners.push(fn);
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // not persisted; fine
  }
  document.documentElement.lang = l;
  applyStatic();
  syncSwitch();
  for (const fn of listeners) fn();
}

function syncSwitch(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === current));
  }
}

/** Wire the language buttons (data-lang="en|fr") and translate the page once. */
export function initI18n(): void {
  document.documentElement.lang = current;
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
    b.addEventListener('click', () => setLang(b.dataset.lang as Lang));
  }
  applyStatic();
  syncSwitch();
}
