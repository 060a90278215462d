/**
 * `crest replay FILE [--speed N] [--room RENAME] [--shift-to-now] [--url URL --token T]`.
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
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CommandUsageError(`usage: ${REPLAY_USAGE}`);
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0) throw new CommandUsageError('--speed must be 0 (as fast as possible) or a positive number, e.g. 10 for ten times real time');
  if (values.url && !values.token) throw new CommandUsageError('--url needs --token (an ingest token: crest token --role ingest)');

  let events: unknown[];
  try {
    events = await readRecording(file);
  } catch (err) {
    throw new CommandUsageError(`cannot read ${file}: ${(err as Error).message}`);
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

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
