// AnchorRequests (contract.ts) over the ledger and a queue producer. Each request is first made durable in
// the ledger, then a job is enqueued as the fast path. A failed enqueue is only logged: the worker's
// reconcile pass finds the request in the database within its interval.
import type { Sql } from 'postgres';
import { closeHead, getElection } from '../../ledger/src/index.js';
import type { AnchorRequests, ChainJobData } from './contract.js';
import { errorMessage, jsonLineLogger, type Logger } from './log.js';
import { AnchorQueues } from './queues.js';

/** The requests over an open ledger connection and queues (the worker's own, or a producer's). */
export function anchorRequestsOver(
  sql: Sql,
  queues: AnchorQueues,
  log: Logger,
  onClose: () => Promise<void> = async () => {},
): AnchorRequests {
  const enqueue = async (data: ChainJobData) => {
    try {
      await queues.addChainJob(data, 2000);
    } catch (err) {
      log('could not enqueue, the reconcile pass will pick the request up', {
        level: 'warn',
        electionId: data.electionId,
        job: data.kind,
        error: errorMessage(err),
      });
    }
  };
  return {
    async requestRegistration(electionId) {
      const e = await getElection(sql, electionId);
      if (!e) throw new Error(`requestRegistration: no election ${electionId}`);
      if (e.rollRoot === null)
        log('registration requested before the roll is frozen; it will be sent once it is', { electionId });
      await enqueue({ kind: 'register', electionId });
    },
    async requestClose(electionId) {
      await closeHead(sql, electionId);
      await enqueue({ kind: 'close', electionId });
    },
    close: onClose,
  };
}

export interface AnchorRequestsOptions {
  /** The process's own application-role pool of the ledger database (requests are recorded there first). */
  sql: Sql;
  /** The application role's URL of the ledger database: the PostgreSQL queue backend's connection. */
  databaseUrl: string;
  /** Redis for BullMQ; unset or null: BullMQ's PostgreSQL backend. */
  redisUrl?: string | null;
  /** Redis key prefix (TALLYPROOF_QUEUE_PREFIX), default "tallyproof". */
  queuePrefix?: string;
  log?: Logger;
}

/** AnchorRequests for a process that does not run the worker (the API): its ledger pool plus a queue producer. */
export async function createAnchorRequests(opts: AnchorRequestsOptions): Promise<AnchorRequests> {
  const log = opts.log ?? jsonLineLogger;
  const queues = await AnchorQueues.open({
    databaseUrl: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    prefix: opts.queuePrefix,
    onError: (err, source) => log('queue backend error', { level: 'warn', source, error: err.message }),
  });
  return anchorRequestsOver(opts.sql, queues, log, () => queues.close());
}
