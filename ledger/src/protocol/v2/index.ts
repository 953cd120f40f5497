// Wire format v2 (docs/protocol.md section 12): encrypted ballots, trustees, the homomorphic tally.
export * from './group.js';
export * from './proofs.js';
export * from './ballot.js';
export * from './trustees.js';
export * from './tally.js';
