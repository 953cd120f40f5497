// The ledger's public surface: every state change and read of the ledger tables that the API, the
// anchor worker, scripts and benches use, each function with its promise in its comment. Only ledger/
// speaks SQL to ledger tables (test/architecture.test.ts); everything else calls these functions.
export * from './elections/index.js';
export * from './ingest/index.js';
export * from './windows/index.js';
export * from './tally.js';
export * from './export.js';
export { auditText, pruneAudit, recordRefusal, type PruneResult } from './ingest/refusals.js';
export * from './protocol/index.js';
export * from './anchoring.js';
export * from './close.js';
export * from './encrypted/index.js';
export * from './clusters.js';
export { LedgerClusters, singleCluster } from './db/clusters.js';
