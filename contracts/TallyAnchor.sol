// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/**
 * @title TallyAnchor
 * @notice Public, append-only record of Tallyproof elections: each election's manifest hash and
 * credential-roll root, the RFC 6962 Merkle root of every window of ballots (or, for a sharded
 * election, of every anchor interval of shard windows), and the final result hash. Observers read
 * it with any EVM client; nothing here depends on trusting the ledger server.
 *
 * @dev Normative description: docs/protocol.md, sections 8 and 13. `electionKey` is
 * `keccak256(utf8(electionId))`, computed off-chain. An election anchors in one of two modes, fixed
 * by its first anchoring call:
 * - window mode (`anchorWindow`, one shard): windows cover ledger sequence numbers
 *   `firstSeq .. firstSeq + count - 1`, contiguous from seq 0;
 * - interval mode (`anchorInterval`, S > 1 shards): interval `i` is the RFC 6962 root of the
 *   60-byte records of the shard windows sealed in that interval, contiguous from interval 0.
 * Nothing anchored is ever overwritten. Only allow-listed anchorer accounts write; the owner
 * manages the allow-list and nothing else.
 */
contract TallyAnchor is Ownable {
    // ---------------------------------------------------------------------------------------------
    // Storage. The layout is chosen for anchorWindow and anchorInterval, the calls made every window
    // (or interval) of every election: each costs two fresh slots (its root, and its packed
    // metadata) plus one update of the election's packed head slot. See contracts/README.md.
    // ---------------------------------------------------------------------------------------------

    /// @dev One election. Slot 0 is the head read (and, for anchorWindow and anchorInterval, written)
    /// on every call. `anchorCount` counts windows in window mode and intervals in interval mode; the
    /// views windowCount/getElection and intervalCount report it only for their own mode (0 otherwise).
    struct Election {
        // slot 0 (packed: 8 + 8 + 8 + 1 + 1 bytes)
        uint64 registeredAt; // block timestamp of registerElection; 0 means "not registered"
        uint64 anchorCount; // windows (window mode) or intervals (interval mode) anchored = next index
        uint64 nextSeq; // number of anchored ballots; in window mode also the next window's firstSeq
        bool closed;
        bool intervalMode; // set by the first anchorInterval; anchorWindow is then refused, and the
        // other way round once a window is anchored (anchorCount != 0 && !intervalMode)
        // slot 1
        bytes32 manifestHash;
        // slot 2
        bytes32 rollRoot;
        // slot 3 (written once, by closeElection; totalBallots is nextSeq at close)
        bytes32 resultHash;
    }

    /// @dev One anchored window. `root != 0` marks an existing window.
    struct Window {
        // slot 0
        bytes32 root;
        // slot 1 (packed: 8 + 8 + 8 bytes)
        uint64 firstSeq;
        uint64 count;
        uint64 anchoredAt; // block timestamp of anchorWindow
    }

    mapping(address account => bool) private _anchorers;
    mapping(bytes32 electionKey => Election) private _elections;
    mapping(bytes32 electionKey => mapping(uint64 windowIndex => Window)) private _windows;

    /// @dev One anchored interval of a sharded election. `root != 0` marks an existing interval.
    struct Interval {
        // slot 0
        bytes32 root;
        // slot 1 (packed: 8 + 8 + 8 bytes)
        uint64 windowCount; // leaves of the interval tree: shard windows sealed in the interval
        uint64 ballotCount; // sum of those windows' counts
        uint64 anchoredAt; // block timestamp of anchorInterval
    }

    // Declared after _windows so that every earlier storage position is unchanged.
    mapping(bytes32 electionKey => mapping(uint64 intervalIndex => Interval)) private _intervals;

    /// @dev RFC 6962 domain separation prefixes.
    bytes1 private constant _LEAF_PREFIX = 0x00;
    bytes1 private constant _NODE_PREFIX = 0x01;

    // ---------------------------------------------------------------------------------------------
    // Events (emitted right after the state change they describe)
    // ---------------------------------------------------------------------------------------------

    /// @notice `account` was added to (`allowed` true) or removed from the anchorer allow-list.
    event AnchorerUpdated(address indexed account, bool allowed);

    /// @notice Election `electionKey` was registered with its manifest hash and credential-roll root.
    event ElectionRegistered(bytes32 indexed electionKey, bytes32 manifestHash, bytes32 rollRoot);

    /// @notice Window `windowIndex` of election `electionKey` was anchored: ballots
    /// `firstSeq .. firstSeq + count - 1` have the RFC 6962 Merkle tree head `root`.
    event WindowAnchored(
        bytes32 indexed electionKey, uint64 indexed windowIndex, uint64 firstSeq, uint64 count, bytes32 root
    );

    /// @notice Interval `intervalIndex` of sharded election `electionKey` was anchored: `windowCount`
    /// shard windows holding `ballotCount` ballots, whose 60-byte records have the RFC 6962 Merkle tree
    /// head `root`.
    event IntervalAnchored(
        bytes32 indexed electionKey, uint64 indexed intervalIndex, uint64 windowCount, uint64 ballotCount, bytes32 root
    );

    /// @notice Election `electionKey` was closed with the hash of its published result, counting
    /// `totalBallots` ballots (all ballots anchored in its windows or intervals).
    event ElectionClosed(bytes32 indexed electionKey, bytes32 resultHash, uint64 totalBallots);

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice `account` is not on the anchorer allow-list and may not write election data.
    error TallyAnchorUnauthorizedAnchorer(address account);

    /// @notice The zero address cannot be an anchorer.
    error TallyAnchorInvalidAnchorer(address account);

    /// @notice Election `electionKey` is already registered; registrations are never overwritten.
    error TallyAnchorElectionAlreadyRegistered(bytes32 electionKey);

    /// @notice Election `electionKey` has not been registered.
    error TallyAnchorElectionNotRegistered(bytes32 electionKey);

    /// @notice Election `electionKey` is closed; nothing more is accepted for it.
    error TallyAnchorElectionAlreadyClosed(bytes32 electionKey);

    /// @notice A registration must carry a non-zero manifest hash and roll root.
    error TallyAnchorZeroRegistrationHash(bytes32 electionKey, bytes32 manifestHash, bytes32 rollRoot);

    /// @notice Window `windowIndex` of election `electionKey` is already anchored with
    /// `anchoredRoot`; windows are never overwritten.
    error TallyAnchorWindowAlreadyAnchored(bytes32 electionKey, uint64 windowIndex, bytes32 anchoredRoot);

    /// @notice Window indexes are contiguous: the next window of `electionKey` is
    /// `expectedWindowIndex`, not `windowIndex`.
    error TallyAnchorWindowIndexGap(bytes32 electionKey, uint64 expectedWindowIndex, uint64 windowIndex);

    /// @notice Seq ranges are contiguous: the next window of `electionKey` starts at
    /// `expectedFirstSeq`, not `firstSeq`.
    error TallyAnchorSeqGap(bytes32 electionKey, uint64 expectedFirstSeq, uint64 firstSeq);

    /// @notice A window seals at least one ballot; empty intervals are not anchored.
    error TallyAnchorEmptyWindow(bytes32 electionKey, uint64 windowIndex);

    /// @notice A window root cannot be zero.
    error TallyAnchorZeroRoot(bytes32 electionKey, uint64 windowIndex);

    /// @notice `firstSeq + count` does not fit in a uint64 seq number.
    error TallyAnchorSeqOverflow(bytes32 electionKey, uint64 firstSeq, uint64 count);

    /// @notice A close must carry a non-zero result hash.
    error TallyAnchorZeroResultHash(bytes32 electionKey);

    /// @notice The close of `electionKey` declares `totalBallots`, but `anchoredBallots` ballots are
    /// anchored; every ballot must be anchored before the close, and counted by it.
    error TallyAnchorTotalBallotsMismatch(bytes32 electionKey, uint64 anchoredBallots, uint64 totalBallots);

    /// @notice Window `windowIndex` of election `electionKey` has not been anchored.
    error TallyAnchorUnknownWindow(bytes32 electionKey, uint64 windowIndex);

    /// @notice Election `electionKey` anchors intervals (anchorInterval); it accepts no anchorWindow.
    error TallyAnchorElectionAnchorsIntervals(bytes32 electionKey);

    /// @notice Election `electionKey` anchors windows (anchorWindow); it accepts no anchorInterval.
    error TallyAnchorElectionAnchorsWindows(bytes32 electionKey);

    /// @notice Interval `intervalIndex` of election `electionKey` is already anchored with
    /// `anchoredRoot`; intervals are never overwritten.
    error TallyAnchorIntervalAlreadyAnchored(bytes32 electionKey, uint64 intervalIndex, bytes32 anchoredRoot);

    /// @notice Interval indexes are contiguous: the next interval of `electionKey` is
    /// `expectedIntervalIndex`, not `intervalIndex`.
    error TallyAnchorIntervalIndexGap(bytes32 electionKey, uint64 expectedIntervalIndex, uint64 intervalIndex);

    /// @notice An interval anchors at least one shard window and each shard window seals at least one
    /// ballot: `windowCount >= 1` and `ballotCount >= windowCount`; empty intervals are not anchored.
    error TallyAnchorEmptyInterval(bytes32 electionKey, uint64 intervalIndex, uint64 windowCount, uint64 ballotCount);

    /// @notice An interval root cannot be zero.
    error TallyAnchorZeroIntervalRoot(bytes32 electionKey, uint64 intervalIndex);

    /// @notice `anchoredBallots + ballotCount` does not fit in a uint64 ballot count.
    error TallyAnchorBallotCountOverflow(bytes32 electionKey, uint64 anchoredBallots, uint64 ballotCount);

    /// @notice Interval `intervalIndex` of election `electionKey` has not been anchored.
    error TallyAnchorUnknownInterval(bytes32 electionKey, uint64 intervalIndex);

    // ---------------------------------------------------------------------------------------------
    // Construction and access control
    // ---------------------------------------------------------------------------------------------

    /// @notice Deploys the registry owned by the deployer, with `initialAnchorers` on the allow-list.
    /// @param initialAnchorers Accounts allowed to register, anchor and close from the start.
    constructor(address[] memory initialAnchorers) Ownable(msg.sender) {
        for (uint256 i = 0; i < initialAnchorers.length; ++i) {
            _setAnchorer(initialAnchorers[i], true);
        }
    }

    /// @dev Restricts election writes to allow-listed anchorers.
    modifier onlyAnchorer() {
        if (!_anchorers[msg.sender]) revert TallyAnchorUnauthorizedAnchorer(msg.sender);
        _;
    }

    /// @notice Adds `account` to or removes it from the anchorer allow-list. Owner only.
    /// @param account The account to update; not the zero address.
    /// @param allowed True to allow `account` to write election data, false to revoke it.
    function setAnchorer(address account, bool allowed) external onlyOwner {
        _setAnchorer(account, allowed);
    }

    /// @notice Whether `account` may register elections, anchor windows and close elections.
    /// @param account The account to look up.
    function isAnchorer(address account) external view returns (bool) {
        return _anchorers[account];
    }

    /// @dev Shared by the constructor and setAnchorer; emits AnchorerUpdated even when nothing
    /// changes, so every owner decision is on the log.
    function _setAnchorer(address account, bool allowed) private {
        if (account == address(0)) revert TallyAnchorInvalidAnchorer(account);
        _anchorers[account] = allowed;
        emit AnchorerUpdated(account, allowed);
    }

    // ---------------------------------------------------------------------------------------------
    // Writes
    // ---------------------------------------------------------------------------------------------

    /// @notice Registers election `electionKey` before any of its windows is anchored.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @param manifestHash SHA-256 of the JCS-serialised election manifest.
    /// @param rollRoot RFC 6962 Merkle tree head of the sorted credential roll.
    function registerElection(bytes32 electionKey, bytes32 manifestHash, bytes32 rollRoot) external onlyAnchorer {
        Election storage election = _elections[electionKey];
        if (election.registeredAt != 0) revert TallyAnchorElectionAlreadyRegistered(electionKey);
        if (manifestHash == 0 || rollRoot == 0) {
            revert TallyAnchorZeroRegistrationHash(electionKey, manifestHash, rollRoot);
        }

        election.registeredAt = uint64(block.timestamp);
        election.manifestHash = manifestHash;
        election.rollRoot = rollRoot;
        emit ElectionRegistered(electionKey, manifestHash, rollRoot);
    }

    /// @notice Anchors the Merkle root of the next window of ballots of election `electionKey`, which
    /// then anchors windows only (never intervals).
    /// @param electionKey keccak256 of the UTF-8 election id; the election is registered, open and
    /// not in interval mode.
    /// @param windowIndex Must equal `windowCount(electionKey)`.
    /// @param firstSeq Must equal the previous window's `firstSeq + count` (0 for window 0).
    /// @param count Number of ballots in the window, at least 1.
    /// @param root RFC 6962 Merkle tree head of the window's ballot hashes in seq order; not zero.
    function anchorWindow(bytes32 electionKey, uint64 windowIndex, uint64 firstSeq, uint64 count, bytes32 root)
        external
        onlyAnchorer
    {
        Election storage election = _elections[electionKey];
        if (election.registeredAt == 0) revert TallyAnchorElectionNotRegistered(electionKey);
        if (election.closed) revert TallyAnchorElectionAlreadyClosed(electionKey);
        if (election.intervalMode) revert TallyAnchorElectionAnchorsIntervals(electionKey);

        uint64 expectedIndex = election.anchorCount;
        if (windowIndex < expectedIndex) {
            revert TallyAnchorWindowAlreadyAnchored(electionKey, windowIndex, _windows[electionKey][windowIndex].root);
        }
        if (windowIndex != expectedIndex) revert TallyAnchorWindowIndexGap(electionKey, expectedIndex, windowIndex);

        uint64 expectedFirstSeq = election.nextSeq;
        if (firstSeq != expectedFirstSeq) revert TallyAnchorSeqGap(electionKey, expectedFirstSeq, firstSeq);
        if (count == 0) revert TallyAnchorEmptyWindow(electionKey, windowIndex);
        if (root == 0) revert TallyAnchorZeroRoot(electionKey, windowIndex);
        uint256 end = uint256(firstSeq) + count;
        if (end > type(uint64).max) revert TallyAnchorSeqOverflow(electionKey, firstSeq, count);

        // windowIndex == anchorCount < 2^64 - 1 always: one window per ballot at most, and
        // nextSeq <= 2^64 - 1, so the increment cannot overflow.
        election.anchorCount = expectedIndex + 1;
        election.nextSeq = uint64(end);
        _windows[electionKey][windowIndex] = Window({
            root: root,
            firstSeq: firstSeq,
            count: count,
            anchoredAt: uint64(block.timestamp)
        });
        emit WindowAnchored(electionKey, windowIndex, firstSeq, count, root);
    }

    /// @notice Anchors the RFC 6962 root of the next interval of sharded election `electionKey`, which
    /// then anchors intervals only (never windows). The interval tree's leaves are the 60-byte records
    /// `uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) ||
    /// windowRoot` of the shard windows sealed since the previous interval, ordered by (shard,
    /// windowIndex). The election's anchored ballot total grows by `ballotCount`.
    /// @dev Writes one fresh root slot, one fresh packed slot and the election head, like anchorWindow;
    /// the head's `anchorCount` counts intervals and its `intervalMode` flag is set on the first one.
    /// The contract cannot check the records behind `root`; it keeps the counts consistent.
    /// @param electionKey keccak256 of the UTF-8 election id; the election is registered, open and
    /// has no window anchored by anchorWindow.
    /// @param intervalIndex Must equal `intervalCount(electionKey)`.
    /// @param windowCount Number of shard windows (leaves of the interval tree), at least 1.
    /// @param ballotCount Sum of the shard windows' counts, at least `windowCount`.
    /// @param root RFC 6962 Merkle tree head of the interval's records; not zero.
    function anchorInterval(
        bytes32 electionKey,
        uint64 intervalIndex,
        uint64 windowCount,
        uint64 ballotCount,
        bytes32 root
    ) external onlyAnchorer {
        Election storage election = _elections[electionKey];
        if (election.registeredAt == 0) revert TallyAnchorElectionNotRegistered(electionKey);
        if (election.closed) revert TallyAnchorElectionAlreadyClosed(electionKey);
        uint64 expectedIndex = election.anchorCount;
        if (!election.intervalMode && expectedIndex != 0) revert TallyAnchorElectionAnchorsWindows(electionKey);

        if (intervalIndex < expectedIndex) {
            revert TallyAnchorIntervalAlreadyAnchored(
                electionKey, intervalIndex, _intervals[electionKey][intervalIndex].root
            );
        }
        if (intervalIndex != expectedIndex) {
            revert TallyAnchorIntervalIndexGap(electionKey, expectedIndex, intervalIndex);
        }
        if (windowCount == 0 || ballotCount < windowCount) {
            revert TallyAnchorEmptyInterval(electionKey, intervalIndex, windowCount, ballotCount);
        }
        if (root == 0) revert TallyAnchorZeroIntervalRoot(electionKey, intervalIndex);
        uint64 anchoredBallots = election.nextSeq;
        uint256 total = uint256(anchoredBallots) + ballotCount;
        if (total > type(uint64).max) revert TallyAnchorBallotCountOverflow(electionKey, anchoredBallots, ballotCount);

        // intervalIndex == anchorCount <= anchoredBallots (every interval anchors a ballot) and
        // anchoredBallots < total <= 2^64 - 1, so the increment cannot overflow.
        election.anchorCount = expectedIndex + 1;
        election.nextSeq = uint64(total);
        election.intervalMode = true;
        _intervals[electionKey][intervalIndex] = Interval({
            root: root,
            windowCount: windowCount,
            ballotCount: ballotCount,
            anchoredAt: uint64(block.timestamp)
        });
        emit IntervalAnchored(electionKey, intervalIndex, windowCount, ballotCount, root);
    }

    /// @notice Closes election `electionKey` with its result hash; nothing is accepted after this.
    /// @param electionKey keccak256 of the UTF-8 election id; the election is registered and open.
    /// @param resultHash SHA-256 of JCS({"electionId","tally","totalBallots"}); not zero.
    /// @param totalBallots Must equal the number of ballots anchored, i.e. every ballot is anchored.
    function closeElection(bytes32 electionKey, bytes32 resultHash, uint64 totalBallots) external onlyAnchorer {
        Election storage election = _elections[electionKey];
        if (election.registeredAt == 0) revert TallyAnchorElectionNotRegistered(electionKey);
        if (election.closed) revert TallyAnchorElectionAlreadyClosed(electionKey);
        if (resultHash == 0) revert TallyAnchorZeroResultHash(electionKey);
        uint64 anchoredBallots = election.nextSeq;
        if (totalBallots != anchoredBallots) {
            revert TallyAnchorTotalBallotsMismatch(electionKey, anchoredBallots, totalBallots);
        }

        election.closed = true;
        election.resultHash = resultHash;
        emit ElectionClosed(electionKey, resultHash, totalBallots);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Registration and close data of election `electionKey`; reverts if it is not registered.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @return manifestHash SHA-256 of the JCS-serialised manifest.
    /// @return rollRoot Merkle tree head of the credential roll.
    /// @return registeredAt Block timestamp of the registration.
    /// @return closed Whether closeElection has been called.
    /// @return resultHash The close's result hash, zero while open.
    /// @return totalBallots The close's ballot count, zero while open.
    /// @return anchoredBallots Number of ballots anchored so far (in window mode the seq one past the
    /// last anchored ballot and the firstSeq of the next window; in interval mode the sum of the
    /// intervals' ballotCount).
    /// @return anchoredWindows Number of windows anchored so far (= windowCount; 0 in interval mode,
    /// see intervalCount).
    function getElection(bytes32 electionKey)
        external
        view
        returns (
            bytes32 manifestHash,
            bytes32 rollRoot,
            uint64 registeredAt,
            bool closed,
            bytes32 resultHash,
            uint64 totalBallots,
            uint64 anchoredBallots,
            uint64 anchoredWindows
        )
    {
        Election storage election = _elections[electionKey];
        if (election.registeredAt == 0) revert TallyAnchorElectionNotRegistered(electionKey);
        closed = election.closed;
        anchoredBallots = election.nextSeq;
        return (
            election.manifestHash,
            election.rollRoot,
            election.registeredAt,
            closed,
            election.resultHash,
            closed ? anchoredBallots : 0, // the close enforced totalBallots == anchoredBallots
            anchoredBallots,
            election.intervalMode ? 0 : election.anchorCount
        );
    }

    /// @notice Number of windows anchored for `electionKey` (0 for an unknown election, and for an
    /// election in interval mode); also the index the next window must use.
    /// @param electionKey keccak256 of the UTF-8 election id.
    function windowCount(bytes32 electionKey) external view returns (uint64) {
        Election storage election = _elections[electionKey];
        return election.intervalMode ? 0 : election.anchorCount;
    }

    /// @notice Number of intervals anchored for `electionKey` (0 for an unknown election, and for an
    /// election in window mode); also the index the next interval must use.
    /// @param electionKey keccak256 of the UTF-8 election id.
    function intervalCount(bytes32 electionKey) external view returns (uint64) {
        Election storage election = _elections[electionKey];
        return election.intervalMode ? election.anchorCount : 0;
    }

    /// @notice Interval `intervalIndex` of election `electionKey`; reverts if it is not anchored.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @param intervalIndex The interval, from 0 to intervalCount(electionKey) - 1.
    /// @return root RFC 6962 Merkle tree head of the interval's shard-window records.
    /// @return windowCount Number of shard windows (records) in the interval.
    /// @return ballotCount Number of ballots in those windows.
    /// @return anchoredAt Block timestamp of the anchoring transaction.
    function getInterval(bytes32 electionKey, uint64 intervalIndex)
        external
        view
        returns (bytes32 root, uint64 windowCount, uint64 ballotCount, uint64 anchoredAt)
    {
        Interval storage interval = _intervals[electionKey][intervalIndex];
        root = interval.root;
        if (root == 0) revert TallyAnchorUnknownInterval(electionKey, intervalIndex);
        return (root, interval.windowCount, interval.ballotCount, interval.anchoredAt);
    }

    /// @notice Window `windowIndex` of election `electionKey`; reverts if it is not anchored.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @param windowIndex The window, from 0 to windowCount(electionKey) - 1.
    /// @return firstSeq Seq of the window's first ballot.
    /// @return count Number of ballots in the window.
    /// @return root RFC 6962 Merkle tree head of the window's ballot hashes.
    /// @return anchoredAt Block timestamp of the anchoring transaction.
    function getWindow(bytes32 electionKey, uint64 windowIndex)
        external
        view
        returns (uint64 firstSeq, uint64 count, bytes32 root, uint64 anchoredAt)
    {
        Window storage window = _windows[electionKey][windowIndex];
        root = window.root;
        if (root == 0) revert TallyAnchorUnknownWindow(electionKey, windowIndex);
        return (window.firstSeq, window.count, root, window.anchoredAt);
    }

    /// @notice Checks an RFC 9162 (section 2.1.3.2) inclusion proof of `ballotHash` at position
    /// `leafIndex` of window `windowIndex` against the anchored root. Never reverts: returns false
    /// for an unknown election or window, an index outside the window, a path of the wrong length
    /// or a path that does not lead to the anchored root.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @param windowIndex The window that holds the ballot.
    /// @param leafIndex The ballot's position in the window: its seq minus the window's firstSeq.
    /// @param ballotHash The 32-byte ballot hash (the Merkle leaf data, not the leaf hash).
    /// @param proof The audit path, from the leaf's sibling up to the root's child.
    function verifyInclusion(
        bytes32 electionKey,
        uint64 windowIndex,
        uint64 leafIndex,
        bytes32 ballotHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Window storage window = _windows[electionKey][windowIndex];
        bytes32 root = window.root;
        if (root == 0) return false; // unknown election or window
        uint64 treeSize = window.count;
        if (leafIndex >= treeSize) return false;

        // RFC 9162 2.1.3.2 with fn = leafIndex, sn = treeSize - 1 and r = the leaf hash.
        uint256 fn = leafIndex;
        uint256 sn = treeSize - 1;
        bytes32 r = sha256(abi.encodePacked(_LEAF_PREFIX, ballotHash));
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return false; // path longer than the tree is deep
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(_NODE_PREFIX, proof[i], r));
                // fn == sn with fn even: the node is the last of its level and has no right
                // sibling on the levels above until fn is odd; climb them without hashing.
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = sha256(abi.encodePacked(_NODE_PREFIX, r, proof[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root; // sn != 0: path shorter than the tree is deep
    }

    /// @notice Checks that ballot `ballotHash` is in a shard window that is in interval `intervalIndex`
    /// of a sharded election: the ballot's RFC 9162 inclusion proof `windowProof` at `leafIndex` leads
    /// to `windowRoot` in a tree of `count` leaves, and the window's 60-byte record
    /// `uint32_be(shard) || uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) ||
    /// windowRoot` has the inclusion proof `intervalProof` at `recordIndex` to the anchored interval
    /// root, in a tree of the interval's `windowCount` leaves. Never reverts: returns false for an
    /// unknown election or interval, an index outside its tree, a path of the wrong length or a path
    /// that does not lead to its root.
    /// @param electionKey keccak256 of the UTF-8 election id.
    /// @param intervalIndex The interval that holds the shard window.
    /// @param recordIndex The window record's position among the interval's records.
    /// @param shard Record field: the shard of the window.
    /// @param windowIndex Record field: the window's index within its shard.
    /// @param firstSeq Record field: the shard seq of the window's first ballot.
    /// @param count Record field: the number of ballots in the window (the size of its tree).
    /// @param windowRoot Record field: the RFC 6962 Merkle tree head of the window's ballot hashes.
    /// @param intervalProof The record's audit path, from its sibling up to the interval root's child.
    /// @param leafIndex The ballot's position in the window: its shard seq minus `firstSeq`.
    /// @param ballotHash The 32-byte ballot hash (the Merkle leaf data, not the leaf hash).
    /// @param windowProof The ballot's audit path, from its sibling up to the window root's child.
    function verifyIntervalInclusion(
        bytes32 electionKey,
        uint64 intervalIndex,
        uint64 recordIndex,
        uint32 shard,
        uint64 windowIndex,
        uint64 firstSeq,
        uint64 count,
        bytes32 windowRoot,
        bytes32[] memory intervalProof,
        uint64 leafIndex,
        bytes32 ballotHash,
        bytes32[] memory windowProof
    ) external view returns (bool) {
        // Twelve parameters nearly fill the legacy code generator's 16-deep stack: the proofs are
        // memory arrays (one stack slot each, two for calldata; same ABI), the interval is looked up
        // first and the rest is done in private functions.
        Interval storage interval = _intervals[electionKey][intervalIndex];
        {
            (bool fits, bytes32 computed) =
                _rootFromInclusionProof(leafIndex, count, _leafHash(ballotHash), windowProof);
            if (!fits || computed != windowRoot) return false;
        }
        return _verifyRecord(
            interval, recordIndex, _recordLeafHash(shard, windowIndex, firstSeq, count, windowRoot), intervalProof
        );
    }

    // ---------------------------------------------------------------------------------------------
    // RFC 6962 / RFC 9162 Merkle proofs
    // ---------------------------------------------------------------------------------------------

    /// @dev Checks the record leaf hash `recordHash` at `recordIndex` of `interval` against its
    /// anchored root (none, i.e. 0, for an interval that is not anchored).
    function _verifyRecord(
        Interval storage interval,
        uint64 recordIndex,
        bytes32 recordHash,
        bytes32[] memory intervalProof
    ) private view returns (bool) {
        bytes32 root = interval.root;
        if (root == 0) return false; // unknown election or interval
        (bool fits, bytes32 computed) =
            _rootFromInclusionProof(recordIndex, interval.windowCount, recordHash, intervalProof);
        return fits && computed == root;
    }

    /// @dev RFC 6962 leaf hash of a shard window's 60-byte record: H(0x00 || uint32_be(shard) ||
    /// uint64_be(windowIndex) || uint64_be(firstSeq) || uint64_be(count) || windowRoot).
    function _recordLeafHash(uint32 shard, uint64 windowIndex, uint64 firstSeq, uint64 count, bytes32 windowRoot)
        private
        pure
        returns (bytes32)
    {
        return sha256(abi.encodePacked(_LEAF_PREFIX, shard, windowIndex, firstSeq, count, windowRoot));
    }

    /// @dev RFC 6962 leaf hash H(0x00 || leaf) of a 32-byte leaf.
    function _leafHash(bytes32 leaf) private pure returns (bytes32) {
        return sha256(abi.encodePacked(_LEAF_PREFIX, leaf));
    }

    /// @dev RFC 9162 2.1.3.2: the root `root` that the audit path `proof` leads to from leaf hash
    /// `leafHash` at `leafIndex` of a tree of `treeSize` leaves; `fits` is false (and `root` 0) when
    /// the index is outside the tree or the path is longer or shorter than the tree is deep. The same
    /// steps as verifyInclusion, over a memory path (verifyInclusion keeps its calldata loop).
    function _rootFromInclusionProof(uint64 leafIndex, uint64 treeSize, bytes32 leafHash, bytes32[] memory proof)
        private
        pure
        returns (bool fits, bytes32 root)
    {
        if (leafIndex >= treeSize) return (false, 0);
        // fn = leafIndex, sn = treeSize - 1 and r = the leaf hash.
        uint256 fn = leafIndex;
        uint256 sn = treeSize - 1;
        bytes32 r = leafHash;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return (false, 0); // path longer than the tree is deep
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(_NODE_PREFIX, proof[i], r));
                // fn == sn with fn even: the node is the last of its level and has no right
                // sibling on the levels above until fn is odd; climb them without hashing.
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = sha256(abi.encodePacked(_NODE_PREFIX, r, proof[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return (false, 0); // path shorter than the tree is deep
        return (true, r);
    }
}
