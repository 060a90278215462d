/**
 * `crest replay FILE [--speed N] [--room RENAME] [--shift-to-now] [--url URL --token T]`, or
 * `crest replay FILE --core [--room R] [--out REPORT.json]` (the pure core in-process: core-replay-command.ts).
 *
 * Two ways in, one behaviour. By default the events go in-process through IngestService on REDIS_URL:
 * no token to mint, and exactly the path the simulator and connectors take — right for an operator on
 * Crest's own machine. With --url (and an ingest --token) they are POSTed as NDJSON to
 * /api/v1/events instead: for a Crest you reach only over HTTP, through its auth and request limits.
 * Either way a 429/503 is waited out (Retry-After) and the same batch resent; ids make that safe.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import type { IngestResult } from '../core/protocol.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { readRecording, replayEvents, RetryableSubmitError, type ReplaySummary } from './file-replay.ts';
import { openIngest } from './ingest-connection.ts';
import { ProgressBar } from './progress-bar.ts';

export const REPLAY_USAGE = 'crest replay FILE.ndjson[.gz] [--speed N] [--room RENAME] [--shift-to-now] [--url http://host:port --token INGEST_TOKEN]';

export const REPLAY_HELP = `usage: ${REPLAY_USAGE}
       crest replay FILE.ndjson[.gz] --core [--room R] [--out REPORT.json]

Plays a recording (crest record) or a stream archive (CREST_ARCHIVE_DIR/<room>/<stream>.ndjson.gz) back.

  --speed N        event-time speed: 1 = real time, 10 = ten times faster, 0 = as fast as possible (default 1)
  --room R         write every event into room R instead of the recorded one (ids are kept, so replaying
                   into the same room again stores nothing twice)
  --shift-to-now   move event times so the first event is now (keeps the spacing)
  --url U --token T  post over HTTP to a Crest at U with an ingest token; default: in-process on REDIS_URL
  --core           no Crest at all: run the file through the detector core here and print the windows,
                   suggestions and report figures (an archive gives exactly what the live room showed)
  --out FILE       with --core: write the report JSON (plus every window and suggestion) to FILE

A progress bar runs on stderr; the summary says how many events were accepted, duplicate and rejected
(the exit code is 1 when any was rejected). Archive clock/plan lines are for --core and are not posted.`;

export async function replayCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<ReplaySummary> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      speed: { type: 'string', default: '1' },
      room: { type: 'string' },
      'shift-to-now': { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      core: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(REPLAY_HELP + '\n');
    return { sent: 0, total: 0, accepted: 0, duplicate: 0, rejected: 0, playheadMs: 0, errors: [] };
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CommandUsageError(`usage: ${REPLAY_USAGE}`);
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0) throw new CommandUsageError('--speed must be 0 (as fast as possible) or a positive number, e.g. 10 for ten times real time');
  if (values.core && (values.url || values.token || values['shift-to-now'])) throw new CommandUsageError('--core runs the file here, through the core: it takes no --url, --token or --shift-to-now');
  if (values.out && !values.core) throw new CommandUsageError('--out goes with --core (the report of the replay)');
  if (values.url && !values.token) throw new CommandUsageError('--url needs --token (an ingest token: crest token --role ingest)');


  let events: unknown[];
  try {
    events = await readRecording(file);
  } catch (err) {
    throw new CommandUsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (values.core) {
    const r = await (await import('./core-replay-command.ts')).coreReplayCommand(file, values, events, env);
    const n = r.replay.events;
    return { sent: n, total: n, accepted: n, duplicate: 0, rejected: r.invalid.length, playheadMs: (r.replay.lastTs ?? 0) - (r.replay.firstTs ?? 0), errors: [] };
  }
  // An archive's clock and plan lines steer a core replay; ingest takes events only.
  const markers = events.filter(isArchiveMarker).length;
  if (markers > 0) {
    events = events.filter((e) => !isArchiveMarker(e));
    process.stderr.write(`${file}: ${markers} clock/plan lines of the archive are not posted (they matter only to --core)\n`);
  }

  let submit: (batch: unknown[]) => Promise<IngestResult>;
  let close = () => {};
  if (values.url) {
    submit = httpSubmitter(values.url, values.token!);
  } else {
    const conn = await openIngest(loadConfig(env), 'crest replay (without --url)');
    submit = (batch) => conn.ingest.ingest(batch, { rooms: '*' });
    close = conn.close;
  }

  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const bar = new ProgressBar();
  const startedAt = Date.now();
  try {
    const sum = await replayEvents({
      events,
      submit,
      speed,
      room: values.room,
      shiftToNow: values['shift-to-now'],
      signal: abort.signal,
      onProgress: (p) => bar.update(p.sent, p.total, `t+${clock(p.playheadMs)}  accepted ${p.accepted}  duplicate ${p.duplicate}  rejected ${p.rejected}`),
    });
    bar.update(sum.sent, sum.total, `t+${clock(sum.playheadMs)}  accepted ${sum.accepted}  duplicate ${sum.duplicate}  rejected ${sum.rejected}`, true);
    bar.finish();
    const wallS = (Date.now() - startedAt) / 1000;
    process.stderr.write(
      `replayed ${sum.sent} of ${sum.total} events (${clock(sum.playheadMs)} of event time) in ${wallS.toFixed(1)} s: ` +
        `${sum.accepted} accepted, ${sum.duplicate} duplicate, ${sum.rejected} rejected\n`,
    );
    for (const e of sum.errors.slice(0, 5)) process.stderr.write(`  event ${e.index + 1}: ${e.field ? `${e.field}: ` : ''}${e.reason}\n`);
    if (abort.signal.aborted) process.stderr.write(`stopped at event ${sum.sent} of ${sum.total}\n`);
    return sum;
  } catch (err) {
    throw err instanceof RangeError ? new CommandUsageError(err.message) : err;
  } finally {
    process.off('SIGINT', onSigint);
    close();
  }
}

/** POSTs a batch as NDJSON; 429/503/network failures become RetryableSubmitError (honouring Retry-After). */
export function httpSubmitter(baseUrl: string, token: string): (batch: unknown[]) => Promise<IngestResult> {
  const url = new URL('/api/v1/events', baseUrl).toString();
  return async (batch) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: batch.map((e) => JSON.stringify(e)).join('\n'),
      });
    } catch (err) {
      throw new RetryableSubmitError(`cannot reach ${url}: ${(err as Error).message}`, 1_000);
    }
    if (res.status === 429 || res.status === 503) {
      throw new RetryableSubmitError(`${res.status} from ${url}`, Number(res.headers.get('retry-after') ?? 1) * 1000);
    }
    const body = (await res.json().catch(() => null)) as (IngestResult & { error?: { reason?: string } }) | null;
    // 400 with per-event errors: every event in the batch was rejected; that is an answer, not a failure.
    if (body && typeof body.accepted === 'number') return body;
    throw new CommandUsageError(`${url} answered ${res.status}: ${body?.error?.reason ?? res.statusText}`);
  };
}

function isArchiveMarker(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || 'type' in e) return false;
  const k = Object.keys(e);
  return k.length === 1 && (k[0] === 'clock' || k[0] === 'plan');
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
