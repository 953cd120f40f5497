// Tests only: how a test makes a worker die in the middle of a task, to check the crash policy. A worker
// module honours a fault only when its workerData says `testFaults: true`, which only tests set; then a
// task carrying a marker (32 bytes, where the task carries keys or messages) kills its thread.
export type TestFault = 'exit' | 'throw';

const MARKERS: Record<TestFault, Buffer> = {
  exit: Buffer.from('worker-pool:test-fault:exit'.padEnd(32, '\0')),
  throw: Buffer.from('worker-pool:test-fault:throw'.padEnd(32, '\0')),
};

/** The 32 bytes that make a worker with test faults on die mid-task (not in Buffer's pool: transferable). */
export function testFaultMarker(fault: TestFault): Buffer {
  const marker = Buffer.alloc(32);
  MARKERS[fault].copy(marker);
  return marker;
}

/** How a task ended, for tests to compare whole: its value, or its error's message. */
export function outcome(task: Promise<unknown>): Promise<{ value: unknown } | { error: string }> {
  return task.then(
    (value) => ({ value }),
    (err: Error) => ({ error: err.message }),
  );
}

/** Whether a worker's workerData turns test faults on. */
export function testFaultsOn(workerData: unknown): boolean {
  return (workerData as { testFaults?: unknown } | null)?.testFaults === true;
}

/** The fault `bytes` is the marker of, or null. */
export function testFaultIn(bytes: Uint8Array): TestFault | null {
  if (bytes.length !== 32) return null;
  if (MARKERS.exit.equals(bytes)) return 'exit';
  if (MARKERS.throw.equals(bytes)) return 'throw';
  return null;
}

/**
 * Kill this thread as a crash would, while its task is running: 'exit' ends it at once with code 70;
 * 'throw' throws an uncaught error from a later turn of the event loop (the task's promise never settles).
 */
export function dieMidTask(fault: TestFault): Promise<never> {
  if (fault === 'exit') process.exit(70);
  return new Promise<never>(() => {
    setImmediate(() => {
      throw new Error('test fault: an uncaught error in the worker');
    });
  });
}
