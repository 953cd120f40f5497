// TallyAnchor on a real anvil chain: access control, registration, contiguous anchoring, close,
// every revert with its custom error and arguments, and the events.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ZeroAddress } from 'ethers';
import { electionKey } from '../index.js';
import { ZERO32, b32, deployFixture, eventsOf, expectRevert, mined, stopFixture, type Fixture } from './support.js';

const UINT64_MAX = 2n ** 64n - 1n;

let fx: Fixture;

beforeAll(async () => {
  fx = await deployFixture();
});

afterAll(async () => {
  await stopFixture(fx);
});

/** Registers a fresh election and returns its key. */
async function registered(electionId: string): Promise<string> {
  const key = electionKey(electionId);
  await mined(fx.asAnchorer.registerElection(key, b32(`manifest ${electionId}`), b32(`roll ${electionId}`)));
  return key;
}

async function blockTimestamp(blockNumber: number): Promise<bigint> {
  const block = await fx.provider.getBlock(blockNumber);
  if (block === null) throw new Error(`no block ${blockNumber}`);
  return BigInt(block.timestamp);
}

describe('electionKey', () => {
  it('is keccak256 of the UTF-8 election id', () => {
    // keccak256("") and keccak256("abc"), well-known values.
    expect(electionKey('')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(electionKey('abc')).toBe('0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });
});

describe('deployment and access control', () => {
  it('makes the deployer the owner and the given accounts anchorers, with events', async () => {
    expect(await fx.asStranger.owner()).toBe(fx.owner.address);
    expect(await fx.asStranger.isAnchorer(fx.anchorer.address)).toBe(true);
    expect(await fx.asStranger.isAnchorer(fx.owner.address)).toBe(false); // owning is not anchoring
    expect(await fx.asStranger.isAnchorer(fx.stranger.address)).toBe(false);

    const receipt = await fx.provider.getTransactionReceipt(fx.deployment.txHash);
    expect(receipt).not.toBeNull();
    const names = eventsOf(receipt!).map((e) => e.name);
    expect(names).toEqual(['OwnershipTransferred', 'AnchorerUpdated']);
    expect(eventsOf(receipt!)[1]!.args).toEqual([fx.anchorer.address, true]);
    expect(fx.deployment).toMatchObject({
      chainId: fx.chain.chainId,
      deployer: fx.owner.address,
      blockNumber: receipt!.blockNumber,
    });
  });

  it('lets only the owner change the allow-list', async () => {
    await expectRevert(fx.asStranger.setAnchorer(fx.stranger.address, true), 'OwnableUnauthorizedAccount', [
      fx.stranger.address,
    ]);
    await expectRevert(fx.asAnchorer.setAnchorer(fx.stranger.address, true), 'OwnableUnauthorizedAccount', [
      fx.anchorer.address,
    ]);
    expect(await fx.asOwner.isAnchorer(fx.stranger.address)).toBe(false);
  });

  it('refuses the zero address as anchorer', async () => {
    await expectRevert(fx.asOwner.setAnchorer(ZeroAddress, true), 'TallyAnchorInvalidAnchorer', [ZeroAddress]);
  });

  it('refuses every election write from an account that is not an anchorer', async () => {
    const key = electionKey('access-control');
    const who = [fx.stranger, fx.owner] as const;
    for (const wallet of who) {
      const contract = wallet === fx.owner ? fx.asOwner : fx.asStranger;
      await expectRevert(contract.registerElection(key, b32('m'), b32('r')), 'TallyAnchorUnauthorizedAnchorer', [
        wallet.address,
      ]);
      await expectRevert(contract.anchorWindow(key, 0, 0, 1, b32('root')), 'TallyAnchorUnauthorizedAnchorer', [
        wallet.address,
      ]);
      await expectRevert(contract.closeElection(key, b32('result'), 0), 'TallyAnchorUnauthorizedAnchorer', [
        wallet.address,
      ]);
    }
  });

  it('adds and revokes anchorers, emitting AnchorerUpdated', async () => {
    const added = await mined(fx.asOwner.setAnchorer(fx.stranger.address, true));
    expect(eventsOf(added)).toEqual([{ name: 'AnchorerUpdated', args: [fx.stranger.address, true] }]);
    expect(await fx.asOwner.isAnchorer(fx.stranger.address)).toBe(true);
    const key = electionKey('granted-then-revoked');
    await mined(fx.asStranger.registerElection(key, b32('m'), b32('r')));

    const revoked = await mined(fx.asOwner.setAnchorer(fx.stranger.address, false));
    expect(eventsOf(revoked)).toEqual([{ name: 'AnchorerUpdated', args: [fx.stranger.address, false] }]);
    expect(await fx.asOwner.isAnchorer(fx.stranger.address)).toBe(false);
    await expectRevert(fx.asStranger.anchorWindow(key, 0, 0, 1, b32('root')), 'TallyAnchorUnauthorizedAnchorer', [
      fx.stranger.address,
    ]);
    // What the revoked account wrote stays.
    expect((await fx.asOwner.getElection(key)).manifestHash).toBe(b32('m'));
  });
});

describe('registerElection', () => {
  it('records the manifest hash and roll root and emits ElectionRegistered', async () => {
    const key = electionKey('spring-2026');
    const receipt = await mined(fx.asAnchorer.registerElection(key, b32('manifest'), b32('roll')));
    expect(eventsOf(receipt)).toEqual([{ name: 'ElectionRegistered', args: [key, b32('manifest'), b32('roll')] }]);

    const election = await fx.asStranger.getElection(key);
    expect(election.toArray()).toEqual([
      b32('manifest'),
      b32('roll'),
      await blockTimestamp(receipt.blockNumber),
      false,
      ZERO32,
      0n,
      0n,
      0n,
    ]);
    expect(election.registeredAt).toBe(await blockTimestamp(receipt.blockNumber));
    expect(await fx.asStranger.windowCount(key)).toBe(0n);
  });

  it('never re-registers, even with the same values', async () => {
    const key = await registered('registered-once');
    const before = (await fx.asStranger.getElection(key)).toArray();
    await expectRevert(
      fx.asAnchorer.registerElection(key, b32('manifest registered-once'), b32('roll registered-once')),
      'TallyAnchorElectionAlreadyRegistered',
      [key],
    );
    await expectRevert(
      fx.asAnchorer.registerElection(key, b32('other'), b32('other')),
      'TallyAnchorElectionAlreadyRegistered',
      [key],
    );
    expect((await fx.asStranger.getElection(key)).toArray()).toEqual(before);
  });

  it('refuses a zero manifest hash or roll root', async () => {
    const key = electionKey('zero-hashes');
    await expectRevert(fx.asAnchorer.registerElection(key, ZERO32, b32('roll')), 'TallyAnchorZeroRegistrationHash', [
      key,
      ZERO32,
      b32('roll'),
    ]);
    await expectRevert(fx.asAnchorer.registerElection(key, b32('m'), ZERO32), 'TallyAnchorZeroRegistrationHash', [
      key,
      b32('m'),
      ZERO32,
    ]);
    await expectRevert(fx.asStranger.getElection(key), 'TallyAnchorElectionNotRegistered', [key]);
  });

  it('reports an unknown election', async () => {
    const key = electionKey('never-registered');
    await expectRevert(fx.asStranger.getElection(key), 'TallyAnchorElectionNotRegistered', [key]);
    expect(await fx.asStranger.windowCount(key)).toBe(0n);
    await expectRevert(fx.asStranger.getWindow(key, 0), 'TallyAnchorUnknownWindow', [key, 0n]);
  });
});

describe('anchorWindow', () => {
  it('refuses windows of an unregistered election', async () => {
    const key = electionKey('not-registered-anchor');
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 1, b32('root')), 'TallyAnchorElectionNotRegistered', [
      key,
    ]);
  });

  it('anchors contiguous windows, emits WindowAnchored and exposes them', async () => {
    const key = await registered('contiguous');
    const windows = [
      { firstSeq: 0n, count: 5n, root: b32('w0') },
      { firstSeq: 5n, count: 1n, root: b32('w1') },
      { firstSeq: 6n, count: 1000n, root: b32('w2') },
    ];
    for (const [index, w] of windows.entries()) {
      const receipt = await mined(fx.asAnchorer.anchorWindow(key, index, w.firstSeq, w.count, w.root));
      expect(eventsOf(receipt)).toEqual([
        { name: 'WindowAnchored', args: [key, BigInt(index), w.firstSeq, w.count, w.root] },
      ]);
      const stored = await fx.asStranger.getWindow(key, index);
      expect(stored.toArray()).toEqual([w.firstSeq, w.count, w.root, await blockTimestamp(receipt.blockNumber)]);
      expect(await fx.asStranger.windowCount(key)).toBe(BigInt(index + 1));
    }
    const election = await fx.asStranger.getElection(key);
    expect(election.anchoredBallots).toBe(1006n);
    expect(election.anchoredWindows).toBe(3n);
    expect(election.closed).toBe(false);
  });

  it('never overwrites an anchored window', async () => {
    const key = await registered('no-overwrite');
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('first')));
    await mined(fx.asAnchorer.anchorWindow(key, 1, 3, 2, b32('second')));
    const before = [
      (await fx.asStranger.getWindow(key, 0)).toArray(),
      (await fx.asStranger.getWindow(key, 1)).toArray(),
    ];

    // Same window again, identical or different: refused, naming what is on chain.
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('first')), 'TallyAnchorWindowAlreadyAnchored', [
      key,
      0n,
      b32('first'),
    ]);
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('forged')), 'TallyAnchorWindowAlreadyAnchored', [
      key,
      0n,
      b32('first'),
    ]);
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, 3, 2, b32('forged')), 'TallyAnchorWindowAlreadyAnchored', [
      key,
      1n,
      b32('second'),
    ]);

    expect([
      (await fx.asStranger.getWindow(key, 0)).toArray(),
      (await fx.asStranger.getWindow(key, 1)).toArray(),
    ]).toEqual(before);
    expect(await fx.asStranger.windowCount(key)).toBe(2n);
  });

  it('requires windowIndex == windowCount', async () => {
    const key = await registered('index-gap');
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, 0, 1, b32('r')), 'TallyAnchorWindowIndexGap', [key, 0n, 1n]);
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 1, b32('r')));
    await expectRevert(fx.asAnchorer.anchorWindow(key, 2, 1, 1, b32('r')), 'TallyAnchorWindowIndexGap', [key, 1n, 2n]);
    await expectRevert(fx.asAnchorer.anchorWindow(key, UINT64_MAX, 1, 1, b32('r')), 'TallyAnchorWindowIndexGap', [
      key,
      1n,
      UINT64_MAX,
    ]);
  });

  it('requires firstSeq to continue the previous window (0 for window 0)', async () => {
    const key = await registered('seq-gap');
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 1, 1, b32('r')), 'TallyAnchorSeqGap', [key, 0n, 1n]);
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 10, b32('r0')));
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, 9, 2, b32('r1')), 'TallyAnchorSeqGap', [key, 10n, 9n]); // overlap
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, 11, 2, b32('r1')), 'TallyAnchorSeqGap', [key, 10n, 11n]); // gap
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, 0, 2, b32('r1')), 'TallyAnchorSeqGap', [key, 10n, 0n]); // restart
    await mined(fx.asAnchorer.anchorWindow(key, 1, 10, 2, b32('r1')));
    expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(12n);
  });

  it('refuses an empty window and a zero root', async () => {
    const key = await registered('empty-and-zero');
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 0, b32('r')), 'TallyAnchorEmptyWindow', [key, 0n]);
    await expectRevert(fx.asAnchorer.anchorWindow(key, 0, 0, 1, ZERO32), 'TallyAnchorZeroRoot', [key, 0n]);
    expect(await fx.asStranger.windowCount(key)).toBe(0n);
  });

  it('refuses a seq range past uint64', async () => {
    const key = await registered('seq-overflow');
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, UINT64_MAX, b32('huge'))); // seq 0 .. 2^64-2
    expect((await fx.asStranger.getElection(key)).anchoredBallots).toBe(UINT64_MAX);
    await expectRevert(fx.asAnchorer.anchorWindow(key, 1, UINT64_MAX, 1, b32('r')), 'TallyAnchorSeqOverflow', [
      key,
      UINT64_MAX,
      1n,
    ]);
    const other = await registered('seq-overflow-2');
    await mined(fx.asAnchorer.anchorWindow(other, 0, 0, 10, b32('r')));
    await expectRevert(fx.asAnchorer.anchorWindow(other, 1, 10, UINT64_MAX, b32('r')), 'TallyAnchorSeqOverflow', [
      other,
      10n,
      UINT64_MAX,
    ]);
  });

  it('keeps elections apart', async () => {
    const a = await registered('apart-a');
    const b = await registered('apart-b');
    await mined(fx.asAnchorer.anchorWindow(a, 0, 0, 4, b32('a0')));
    await mined(fx.asAnchorer.anchorWindow(b, 0, 0, 7, b32('b0')));
    await mined(fx.asAnchorer.anchorWindow(a, 1, 4, 1, b32('a1')));
    expect(await fx.asStranger.windowCount(a)).toBe(2n);
    expect(await fx.asStranger.windowCount(b)).toBe(1n);
    expect((await fx.asStranger.getWindow(b, 0)).root).toBe(b32('b0'));
    await expectRevert(fx.asStranger.getWindow(b, 1), 'TallyAnchorUnknownWindow', [b, 1n]);
  });
});

describe('closeElection', () => {
  it('refuses to close an unregistered election', async () => {
    const key = electionKey('not-registered-close');
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 0), 'TallyAnchorElectionNotRegistered', [key]);
  });

  it('requires a non-zero result hash', async () => {
    const key = await registered('zero-result');
    await expectRevert(fx.asAnchorer.closeElection(key, ZERO32, 0), 'TallyAnchorZeroResultHash', [key]);
  });

  it('requires totalBallots to equal every anchored ballot', async () => {
    const key = await registered('total-mismatch');
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('r0')));
    await mined(fx.asAnchorer.anchorWindow(key, 1, 3, 4, b32('r1')));
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 6), 'TallyAnchorTotalBallotsMismatch', [
      key,
      7n,
      6n,
    ]);
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 8), 'TallyAnchorTotalBallotsMismatch', [
      key,
      7n,
      8n,
    ]);
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 4), 'TallyAnchorTotalBallotsMismatch', [
      key,
      7n,
      4n,
    ]);
  });

  it('closes with the result hash, emits ElectionClosed and then accepts nothing more', async () => {
    const key = await registered('closing');
    await mined(fx.asAnchorer.anchorWindow(key, 0, 0, 3, b32('r0')));
    await mined(fx.asAnchorer.anchorWindow(key, 1, 3, 4, b32('r1')));
    const receipt = await mined(fx.asAnchorer.closeElection(key, b32('result'), 7));
    expect(eventsOf(receipt)).toEqual([{ name: 'ElectionClosed', args: [key, b32('result'), 7n] }]);

    const election = await fx.asStranger.getElection(key);
    expect(election.toArray()).toEqual([
      b32('manifest closing'),
      b32('roll closing'),
      election.registeredAt,
      true,
      b32('result'),
      7n,
      7n,
      2n,
    ]);

    await expectRevert(fx.asAnchorer.anchorWindow(key, 2, 7, 1, b32('late')), 'TallyAnchorElectionAlreadyClosed', [
      key,
    ]);
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 7), 'TallyAnchorElectionAlreadyClosed', [key]);
    await expectRevert(fx.asAnchorer.closeElection(key, b32('other result'), 7), 'TallyAnchorElectionAlreadyClosed', [
      key,
    ]);
    await expectRevert(
      fx.asAnchorer.registerElection(key, b32('m'), b32('r')),
      'TallyAnchorElectionAlreadyRegistered',
      [key],
    );

    expect((await fx.asStranger.getElection(key)).toArray()).toEqual(election.toArray());
    expect(await fx.asStranger.windowCount(key)).toBe(2n);
    expect((await fx.asStranger.getWindow(key, 1)).root).toBe(b32('r1'));
  });

  it('closes an election without ballots', async () => {
    const key = await registered('no-ballots');
    await expectRevert(fx.asAnchorer.closeElection(key, b32('result'), 1), 'TallyAnchorTotalBallotsMismatch', [
      key,
      0n,
      1n,
    ]);
    const receipt = await mined(fx.asAnchorer.closeElection(key, b32('empty result'), 0));
    expect(eventsOf(receipt)).toEqual([{ name: 'ElectionClosed', args: [key, b32('empty result'), 0n] }]);
    expect((await fx.asStranger.getElection(key)).closed).toBe(true);
  });
});

describe('ownership', () => {
  it('moves allow-list control with ownership', async () => {
    await expectRevert(fx.asStranger.transferOwnership(fx.stranger.address), 'OwnableUnauthorizedAccount', [
      fx.stranger.address,
    ]);
    await mined(fx.asOwner.transferOwnership(fx.stranger.address));
    expect(await fx.asOwner.owner()).toBe(fx.stranger.address);
    await expectRevert(fx.asOwner.setAnchorer(fx.owner.address, true), 'OwnableUnauthorizedAccount', [
      fx.owner.address,
    ]);
    await mined(fx.asStranger.setAnchorer(fx.owner.address, true));
    expect(await fx.asStranger.isAnchorer(fx.owner.address)).toBe(true);
  });
});
