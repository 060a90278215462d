/**
 * Replays a recording (NDJSON, gzip or plain; what `crest record` writes) through ingest at any speed.
 * Events keep the file's order (arrival order: a late event stays where it arrived) and are released
 * when the playhead passes their event time; speed 0 releases everything as fast as ingest takes it.
 *
 * Ordering invariant: one batch in flight; a failed batch is resent as it was before anything newer.
 * Dedupe key: the event id (unchanged by --room and --shift-to-now), so replaying a file twice into the
 * same room stores nothing the second time — rename the room to replay it again side by side.
 */
import { readFile } from 'node:fs/promises';
import { constants as zlib, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import type { IngestResult } from '../core/protocol.ts';
import { HttpError } from '../server/http-error.ts';

const gunzipAsync = promisify(gunzip);

export interface ReplayProgress {
  sent: number;
  total: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  /** Event time of the playhead, relative to the first event (ms). */
  playheadMs: number;
}

export interface ReplayOptions {
  /** Parsed lines of a recording (see readRecording). */
  events: unknown[];
  /** Hands a batch to ingest; throws to ask for a resend (HttpError / RetryableSubmitError say when). Indexes in its answer are within the batch. */
  submit: (events: unknown[]) => Promise<IngestResult>;
  /** Event-time ms per wall-clock ms; 0 = as fast as possible. Default 1. */
  speed?: number;
  /** Write every event into this room instead of the recorded one. */
  room?: string;
  /** Move event times so the first event is "now" (keeps the spacing). */
  shiftToNow?: boolean;
  now?: () => number;
  onProgress?: (p: ReplayProgress) => void;
  /** Most events per batch. Default 500. */
  maxBatch?: number;
  /** Consecutive failed submits of one batch before giving up. Default 20. */
  maxAttempts?: number;
  signal?: AbortSignal;
}

export interface ReplaySummary extends ReplayProgress {
  /** First few rejections, with the index of the event in the file (0-based). */
  errors: { index: number; field: string; reason: string }[];
}

/** A submit failure that names its own retry delay (e.g. an HTTP 429/503 with Retry-After). */
export class RetryableSubmitError extends Error {
  override name = 'RetryableSubmitError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A line that was not JSON, reported by ingest at its index like any other rejection. */
export interface UnreadableLine {
  unreadable: string;
}

/**
 * Reads a recording: gzip (by its magic bytes) or plain NDJSON. A gzip cut short (a recorder killed
 * mid-write) yields every complete line. Lines that are not JSON stay in place as UnreadableLine.
 */
export async function readRecording(path: string): Promise<unknown[]> {
  const raw = await readFile(path);
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? (await gunzipAsync(raw, { finishFlush: zlib.Z_SYNC_FLUSH })).toString('utf8') : raw.toString('utf8');
  const lines = text.split('\n');
  // A truncated file may end mid-line: drop a last line that does not parse.
  const out: unknown[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    try {
      out.push(JSON.parse(t));
    } catch (err) {
      if (i === lines.length - 1) return;
      out.push({ unreadable: `line ${i + 1} is not JSON: ${(err as Error).message}` } satisfies UnreadableLine);
    }
  });
  return out;
}

/** Plays `events` through `submit`; resolves with the totals when done (or when `signal` aborts). */
export async function replayEvents(opts: ReplayOptions): Promise<ReplaySummary> {
  const speed = opts.speed ?? 1;
  const now = opts.now ?? Date.now;
  const maxBatch = opts.maxBatch ?? 500;
  const maxAttempts = opts.maxAttempts ?? 20;
  if (!(speed >= 0) || !Number.isFinite(speed)) throw new RangeError('speed: must be 0 (as fast as possible) or a positive number');
  if (opts.room !== undefined && !ROOM_ID_PATTERN.test(opts.room)) throw new RangeError(`room: "${opts.room}" is not a valid room id (1–64 of A-Z a-z 0-9 _ . -)`);

  const events = opts.events;
  const times = events.map(tsOf);
  const firstTs = times.find((t) => t !== undefined) ?? 0;
  const shift = opts.shiftToNow ? Math.floor(now()) - firstTs : 0;
  const sum: ReplaySummary = { sent: 0, total: events.length, accepted: 0, duplicate: 0, rejected: 0, playheadMs: 0, errors: [] };
  const wallStart = now();
  const playhead = () => (speed === 0 ? Infinity : firstTs + (now() - wallStart) * speed);

  let i = 0;
  while (i < events.length && !opts.signal?.aborted) {
    const head = playhead();
    const batch: unknown[] = [];
    let j = i;
    // Due: event time behind the playhead (a late event, stamped earlier than its neighbours, is due at once).
    const indexes: number[] = [];
    while (j < events.length && batch.length < maxBatch && (times[j] === undefined || times[j]! <= head)) {
      const e = events[j];
      if (isUnreadable(e)) {
        // Never sent: reported here, at its place in the file, like ingest reports a rejection.
        sum.rejected += 1;
        sum.sent += 1;
        if (sum.errors.length < 20) sum.errors.push({ index: j, field: '', reason: e.unreadable });
      } else {
        batch.push(transform(e, opts.room, shift));
        indexes.push(j);
      }
      j += 1;
    }
    if (batch.length === 0 && j > i) {
      i = j;
      continue;
    }
    if (batch.length === 0) {
      const waitMs = Math.min(1_000, Math.max(1, (times[i]! - head) / speed));
      await sleep(waitMs, opts.signal);
      sum.playheadMs = Math.max(0, playhead() - firstTs);
      opts.onProgress?.(snapshot(sum));
      continue;
    }
    const r = await submitWithRetry(opts.submit, batch, maxAttempts, opts.signal);
    if (!r) break; // aborted
    sum.accepted += r.accepted;
    sum.duplicate += r.duplicate;
    sum.rejected += r.rejected;
    for (const e of r.errors) if (sum.errors.length < 20) sum.errors.push({ ...e, index: indexes[e.index] ?? i + e.index });
    sum.sent += batch.length;
    i = j;
    sum.playheadMs = Math.max(0, Math.min(playhead(), times[j - 1] ?? firstTs) - firstTs);
    opts.onProgress?.(snapshot(sum));
  }
  return sum;
}

async function submitWithRetry(
  submit: ReplayOptions['submit'],
  batch: unknown[],
  maxAttempts: number,
  signal: AbortSignal | undefined,
): Promise<IngestResult | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await submit(batch);
    } catch (err) {
      if (attempt >= maxAttempts) throw new Error(`ingest kept failing (${attempt} attempts): ${(err as Error).message}`);
      const hinted =
        err instanceof RetryableSubmitError ? err.retryAfterMs : err instanceof HttpError ? Number(err.headers['Retry-After'] ?? 0) * 1000 : 0;
      if (err instanceof HttpError && err.status < 500 && err.status !== 429) throw err; // the request itself is wrong
      await sleep(Math.max(hinted, Math.min(10_000, 200 * 2 ** (attempt - 1))), signal);
      if (signal?.aborted) return null;
    }
  }
}

function isUnreadable(e: unknown): e is UnreadableLine {
  return typeof e === 'object' && e !== null && typeof (e as UnreadableLine).unreadable === 'string' && !('type' in e);
}

function transform(e: unknown, room: string | undefined, shift: number): unknown {
  if (typeof e !== 'object' || e === null) return e;
  const o = { ...(e as Record<string, unknown>) };
  if (room !== undefined) o.room = room;
  if (shift !== 0 && typeof o.ts === 'number') o.ts = o.ts + shift;
  return o;
}

function tsOf(e: unknown): number | undefined {
  const ts = (e as { ts?: unknown } | null)?.ts;
  return typeof ts === 'number' && Number.isFinite(ts) ? ts : undefined;
}

function snapshot(s: ReplaySummary): ReplayProgress {
  return { sent: s.sent, total: s.total, accepted: s.accepted, duplicate: s.duplicate, rejected: s.rejected, playheadMs: s.playheadMs };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
