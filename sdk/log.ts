import pino from 'pino';

/** The logger shape the SDK needs: pino's, so a server can pass its own child logger. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export function defaultLogger(bindings: Record<string, unknown>): Logger {
  return pino({ name: 'hotupgrade', base: { pid: process.pid, ...bindings } }, pino.destination(2));
}
