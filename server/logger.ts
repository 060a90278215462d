/**
 * A tiny leveled logger: one line per record, `level msg {fields}` on a TTY and JSON otherwise, so a
 * human can read `npm start` and a log shipper can parse production output. Secrets never go in fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel = 'info', opts: { json?: boolean; write?: (line: string) => void } = {}): Logger {
  const json = opts.json ?? !process.stderr.isTTY;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (l: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    if (json) write(JSON.stringify({ t: new Date().toISOString(), level: l, msg, ...fields }));
    else write(`${l.padEnd(5)} ${msg}${fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : ''}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
