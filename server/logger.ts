/**
 * Crest's logger: pino underneath (JSON lines on stderr, one object per record: `level`, `time`, `msg`, the
 * fields), behind the small `Logger` interface every part already calls as `log.info(msg, fields)`.
 *
 * Secrets never reach the output, by two guards: pino's `redact` censors fields by name wherever they sit
 * (REDACT_PATHS: tokens, secrets, Authorization and signature headers, CREST_TOKEN_SECRET), and every finished
 * line is scrubbed of what a name cannot catch: the secret values the process was given, bearer credentials,
 * Crest tokens and the password of a URL, inside messages and error texts.
 *
 * On a terminal the line is shown as `HH:MM:SS level msg key=value …` by a formatter of a dozen lines, not by
 * pino-pretty: that is thirteen more direct dependencies for a view only a person at a terminal sees, and anyone who
 * wants it can pipe the JSON (written whenever stderr is not a terminal) through it: `crest start 2>&1 | npx pino-pretty`.
 */
import { pino, type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const SECRET_KEYS = ['token', 'secret', 'botSecret', 'tokenSecret', 'tokenSecretPrevious', 'password', 'authorization', 'CREST_TOKEN_SECRET', 'CREST_TOKEN_SECRET_PREVIOUS'];
const SECRET_HEADERS = ['authorization', 'Authorization', 'cookie', 'x-crest-signature', 'X-Crest-Signature'];
/** Field names censored at the top level and one level down, and request headers at either depth. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
];
export const CENSOR = '[redacted]';

/** Credentials by shape, wherever they appear in a line (messages, error texts, URLs). */
const SHAPES: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${CENSOR}`],
  [/\bcrest1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, `crest1.${CENSOR}`],
  // The userinfo of a URL (redis://:password@host, https://user:pw@host).
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@"]*@/gi, `$1${CENSOR}@`],
];

export interface LoggerOptions {
  /** JSON lines (default off a terminal) or the terminal view. */
  json?: boolean;
  /** Where finished lines go (default stderr); tests collect them. */
  write?: (line: string) => void;
  /** Values never to print, whatever field or message carries them (the token secrets). */
  secrets?: readonly (string | null | undefined)[];
}

export function createLogger(level: LogLevel = 'info', opts: LoggerOptions = {}): Logger {
  const json = opts.json ?? !process.stderr.isTTY;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const scrub = (line: string): string => {
    let out = line;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(CENSOR);
    for (const [re, to] of SHAPES) out = out.replace(re, to);
    return out;
  };
  const dest: DestinationStream = {
    write(chunk: string) {
      const line = scrub(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk);
      write(json ? line : terminalLine(line));
    },
  };
  const p = pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
    },
    dest,
  );
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
  };
}

/** `12:00:01 info  msg key=value …` from one pino JSON line (already redacted and scrubbed). */
function terminalLine(line: string): string {
  const { time, level, msg, pid: _pid, ...fields } = JSON.parse(line) as Record<string, unknown>;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return [String(time).slice(11, 19), String(level).padEnd(5), msg, ...rest].join(' ');
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
