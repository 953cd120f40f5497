// The one logger shape of the worker and the job producers: a message and flat fields, `level` among them.

export type Logger = (msg: string, fields?: object) => void;

/** JSON lines on stdout: {"time","level","msg",...fields}. */
export const jsonLineLogger: Logger = (msg, fields = {}) => {
  const { level = 'info', ...rest } = fields as { level?: string };
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...rest }) + '\n');
};

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
