/**
 * `crest simulate`: seeded simulated rooms (core/scenario/), either as NDJSON on stdout (labels on stderr) to
 * keep or replay later, or — with --post — fed live into a Crest at --speed through the same path as
 * `crest replay` (in-process on REDIS_URL, or over HTTP with --url and an ingest token), times moved to now.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { ROOM_ID_PATTERN, type CrestEvent } from '../core/events.ts';
import type { IngestResult } from '../core/protocol.ts';
import { generateRoom, SCENARIOS, type ScenarioName } from '../core/scenario/generate-room.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { replayEvents, type ReplaySummary } from './file-replay.ts';
import { openIngest } from './ingest-connection.ts';
import { ProgressBar } from './progress-bar.ts';
import { httpSubmitter } from './replay-command.ts';

export const SIMULATE_HELP = `usage: crest simulate [--scenario NAME] [--seed N] [--rooms N] [--room NAME] [--minutes M]
                     [--post [--speed N] [--url http://host:port --token INGEST_TOKEN]]

Simulated livestream rooms, deterministic for a seed.

  --scenario NAME  one of ${SCENARIOS.join(', ')} (default highlight)
  --seed N         integer seed (default 1); room i uses seed N+i
  --rooms N        how many rooms, 1–200 (default 1), named NAME-1 … NAME-N
  --room NAME      room name (default sim-<scenario>-<seed>)
  --minutes M      stream length per room, 1–1440 (default 20)
  --post           feed the rooms into Crest now instead of printing them: in-process on REDIS_URL, or
                   over HTTP with --url and --token; event times start now
  --speed N        with --post: 1 = real time (default), 10 = ten times faster, 0 = as fast as possible

Without --post the events go to stdout as NDJSON (arrival order, rooms interleaved by time) and one JSON
line per room with its true highlight labels goes to stderr.`;

export async function simulateCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<ReplaySummary | null> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string', default: 'highlight' },
      seed: { type: 'string', default: '1' },
      rooms: { type: 'string', default: '1' },
      room: { type: 'string' },
      minutes: { type: 'string', default: '20' },
      post: { type: 'boolean', default: false },
      speed: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(SIMULATE_HELP + '\n');
    return null;
  }
  const scenario = values.scenario as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new CommandUsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CommandUsageError('--seed must be an integer');
  const roomCount = Number(values.rooms);
  if (!Number.isInteger(roomCount) || roomCount < 1 || roomCount > 200) throw new CommandUsageError('--rooms must be a whole number from 1 to 200');
  const minutes = Number(values.minutes);
  if (!(minutes >= 1 && minutes <= 24 * 60)) throw new CommandUsageError('--minutes must be between 1 and 1440');
  const base = values.room ?? `sim-${scenario}-${seed}`;
  const names = roomCount === 1 ? [base] : Array.from({ length: roomCount }, (_, i) => `${base}-${i + 1}`);
  for (const n of names) if (!ROOM_ID_PATTERN.test(n)) throw new CommandUsageError(`--room: "${n}" is not a valid room id (1–64 of A-Z a-z 0-9 _ . -)`);
  if (!values.post && (values.speed || values.url || values.token)) throw new CommandUsageError('--speed, --url and --token go with --post (without it the events are printed)');
  const speed = Number(values.speed ?? '1');
  if (!Number.isFinite(speed) || speed < 0) throw new CommandUsageError('--speed must be 0 (as fast as possible) or a positive number, e.g. 10 for ten times real time');
  if (values.url && !values.token) throw new CommandUsageError('--url needs --token (an ingest token: crest token --role ingest)');

  // Where the events go, checked before any work: a missing REDIS_URL is one line, at once.
  let submit: ((batch: unknown[]) => Promise<IngestResult>) | null = null;
  let close = () => {};
  if (values.post && values.url) submit = httpSubmitter(values.url, values.token!);
  else if (values.post) {
    const conn = await openIngest(loadConfig(env), 'crest simulate --post (without --url)');
    submit = (batch) => conn.ingest.ingest(batch, { rooms: '*' });
    close = conn.close;
  }

  const startTs = Date.UTC(2026, 0, 1);
  const rooms = names.map((room, i) => generateRoom({ room, scenario, seed: seed + i, startTs, durationMs: minutes * 60_000 }));
  const events = interleave(rooms.map((r) => r.events));

  if (!submit) {
    for (const r of rooms) process.stderr.write(JSON.stringify({ room: r.room, scenario, seed: r.seed, events: r.events.length, labels: r.labels }) + '\n');
    const chunk = 5_000;
    for (let i = 0; i < events.length; i += chunk) {
      const text = events.slice(i, i + chunk).map((e) => JSON.stringify(e)).join('\n') + '\n';
      if (!process.stdout.write(text)) await new Promise((ok) => process.stdout.once('drain', ok));
    }
    return null;
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
      shiftToNow: true,
      signal: abort.signal,
      onProgress: (p) => bar.update(p.sent, p.total, `${names.length} room${names.length > 1 ? 's' : ''}  accepted ${p.accepted}  rejected ${p.rejected}`),
    });
    bar.update(sum.sent, sum.total, `${names.length} room${names.length > 1 ? 's' : ''}  accepted ${sum.accepted}  rejected ${sum.rejected}`, true);
    bar.finish();
    process.stderr.write(`simulated ${names.join(', ')}: ${sum.accepted} accepted, ${sum.duplicate} duplicate, ${sum.rejected} rejected${abort.signal.aborted ? ' (stopped)' : ''}\n`);
    for (const e of sum.errors.slice(0, 5)) process.stderr.write(`  event ${e.index + 1}: ${e.field ? `${e.field}: ` : ''}${e.reason}\n`);
    return sum;
  } finally {
    process.off('SIGINT', onSigint);
    close();
  }
}

/** Merges rooms by the event time at each room's head, so each room keeps its own arrival order (late events stay late). */
function interleave(lists: CrestEvent[][]): CrestEvent[] {
  if (lists.length === 1) return lists[0]!;
  const idx = lists.map(() => 0);
  const out: CrestEvent[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i]![idx[i]!];
      if (e && (best < 0 || e.ts < lists[best]![idx[best]!]!.ts)) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]![idx[best]!++]!);
  }
}
