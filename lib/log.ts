import pino from "pino";

export type Logger = pino.Logger;

/** JSON lines on stdout, written asynchronously so a request never waits for the log file. */
export function createLogger(level: string, name: string): Logger {
  return pino(
    { level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: false }),
  );
}
