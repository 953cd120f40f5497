// `roots`: the observer's lookup. Everything comes from the chain: the registration (manifest hash,
// roll root), every anchored window with its root (or, for an election of several shards, every anchor
// interval with its root, docs/protocol.md 13.4), and the close. Optionally the transactions of the
// corresponding events (--logs), for a block explorer.
import { ChainReader, electionKey, type ChainEventRef, type ChainInterval, type ChainWindow } from '../chain.js';
import { finding, type Finding } from '../errors.js';
import { checkWindowRanges } from '../audit/windows.js';

export interface RootsOptions {
  rpcUrl: string;
  contract: string;
  electionId: string;
  /** Look the events' transactions up from this block (eth_getLogs); undefined: do not. */
  logsFromBlock?: number;
}

export interface RootsReport {
  tool: 'tallyproof-verify roots';
  electionId: string;
  electionKey: string;
  chainId: number;
  contract: string;
  registered: boolean;
  registration?: { manifestHash: string; rollRoot: string; registeredAt: string; tx?: ChainEventRef };
  windows: (ChainWindow & { lastSeq: number; anchoredAtIso: string; tx?: ChainEventRef })[];
  /** An election of several shards: its anchor intervals (absent when it has none). */
  intervals?: (ChainInterval & { anchoredAtIso: string; tx?: ChainEventRef })[];
  anchoredBallots: number;
  close?: { resultHash: string; totalBallots: number; tx?: ChainEventRef } | null;
  findings: Finding[];
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

export async function runRoots(opts: RootsOptions): Promise<RootsReport> {
  const chain = await ChainReader.connect(opts.rpcUrl, opts.contract);
  try {
    const out: RootsReport = {
      tool: 'tallyproof-verify roots',
      electionId: opts.electionId,
      electionKey: electionKey(opts.electionId),
      chainId: chain.chainId,
      contract: chain.address,
      registered: false,
      windows: [],
      anchoredBallots: 0,
      findings: [],
    };
    const registration = await chain.election(opts.electionId);
    if (registration === null) {
      out.findings.push(
        finding(
          'not-registered',
          `election ${opts.electionId} is not registered on contract ${chain.address} (chain ${chain.chainId})`,
        ),
      );
      return out;
    }
    out.registered = true;
    out.registration = {
      manifestHash: registration.manifestHash,
      rollRoot: registration.rollRoot,
      registeredAt: iso(registration.registeredAt),
    };
    out.anchoredBallots = registration.anchoredBallots;
    const windows = await chain.windows(opts.electionId, await chain.windowCount(opts.electionId));
    out.windows = windows.map((w) => ({ ...w, lastSeq: w.firstSeq + w.count - 1, anchoredAtIso: iso(w.anchoredAt) }));
    out.findings.push(...checkWindowRanges(windows));
    const intervals = await chain.intervals(opts.electionId, await chain.intervalCount(opts.electionId));
    if (intervals.length > 0) out.intervals = intervals.map((i) => ({ ...i, anchoredAtIso: iso(i.anchoredAt) }));
    out.close = registration.closed
      ? { resultHash: registration.resultHash, totalBallots: registration.totalBallots }
      : null;
    if (opts.logsFromBlock !== undefined) {
      const events = await chain.events(opts.electionId, opts.logsFromBlock);
      if (events.registered !== undefined) out.registration.tx = events.registered;
      for (const w of out.windows) {
        const tx = events.windows.get(w.index);
        if (tx !== undefined) w.tx = tx;
      }
      for (const i of out.intervals ?? []) {
        const tx = events.intervals.get(i.index);
        if (tx !== undefined) i.tx = tx;
      }
      if (out.close && events.closed !== undefined) out.close.tx = events.closed;
    }
    return out;
  } finally {
    chain.close();
  }
}
