/**
 * `crest replay FILE --core [--room R] [--out REPORT.json]`: runs a recording or a stream archive through
 * the pure core in this process — no Redis, no server — with a progress bar, and prints what the live
 * pipeline would have shown: windows, suggestions and the report's headline figures. `--out` writes the full
 * report JSON (core/report.ts, the same builder as `GET /report`) plus every window and suggestion.
 *
 * An archive's clock and plan lines are applied as the live detector applied them, so the result equals the
 * live one (test/history.test.ts); a plain recording has no clock lines, so only event-driven time moves.
 */
import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config/config.ts';
import { buildReport, type RoomReport } from '../core/report.ts';
import { replayThroughCore, type CoreReplay } from '../server/history-core-replay.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { ProgressBar } from './progress-bar.ts';
import { parseArchiveLine, type ArchiveLine } from './stream-archive-format.ts';

export interface CoreReplayResult {
  replay: CoreReplay;
  report: RoomReport;
  /** Lines that were neither an event nor a clock/plan line, with their 1-based line number. */
  invalid: { line: number; reason: string }[];
}

export async function coreReplayCommand(
  file: string,
  values: { room?: string; out?: string; speed?: string },
  items: unknown[],
  env: Record<string, string | undefined> = process.env,
): Promise<CoreReplayResult> {
  const config = loadConfig(env);
  const lines: ArchiveLine[] = [];
  const invalid: CoreReplayResult['invalid'] = [];
  items.forEach((item, i) => {
    const line = parseArchiveLine(item);
    if (line) lines.push(values.room && 'type' in line ? { ...line, room: values.room } : line);
    else if (invalid.length < 20) invalid.push({ line: i + 1, reason: 'not a contract v1 event, clock or plan line' });
  });
  const rooms = new Set(lines.flatMap((l) => ('type' in l ? [l.room] : [])));
  if (rooms.size > 1) throw new CommandUsageError(`${file} holds ${rooms.size} rooms (${[...rooms].slice(0, 3).join(', ')}…): pass --room to replay them as one, or split the file`);
  const room = values.room ?? [...rooms][0] ?? 'replay';

  const bar = new ProgressBar();
  const every = Math.max(1, Math.floor(lines.length / 200));
  const replay = replayThroughCore(room, lines, config.engine, (i) => {
    if (i % every === 0) bar.update(i + 1, lines.length, 'through the core');
  });
  bar.update(lines.length, lines.length, 'through the core', true);
  bar.finish();

  const report = buildReport({
    room,
    stream: file,
    generatedAt: Date.now(),
    metrics: replay.metrics,
    windows: replay.windows,
    suggestions: [...replay.suggestions].reverse(),
    acks: [],
    series: replay.series,
    plannedMoments: null,
  });
  if (values.out) {
    await writeFile(values.out, JSON.stringify({ report, windows: replay.windows, suggestions: replay.suggestions }, null, 2) + '\n');
  }
  const out = process.stderr;
  const m = replay.metrics;
  out.write(`${replay.events} events of ${room}${invalid.length ? `, ${invalid.length} unreadable lines skipped` : ''}\n`);
  if (m) {
    out.write(`  peak ${m.peakConcurrency} viewers, ${m.uniqueViewers} unique, GMV ${m.gmv} in ${m.orders} orders, ad spend ${m.adSpend}, follows ${m.follows}\n`);
  }
  out.write(`  ${replay.windows.length} highlight window${replay.windows.length === 1 ? '' : 's'}\n`);
  for (const w of replay.windows) {
    out.write(`    ${new Date(w.onsetTs).toISOString()} ${w.state}: ${w.baseline} → ${w.peak} (+${w.liftPct}%), detected after ${Math.round((w.detectedTs - w.onsetTs) / 1000)} s\n`);
  }
  const kinds = new Map<string, number>();
  for (const s of replay.suggestions) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
  out.write(`  ${replay.suggestions.length} suggestions${kinds.size ? `: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}\n`);
  for (const e of invalid.slice(0, 5)) out.write(`  line ${e.line}: ${e.reason}\n`);
  if (values.out) out.write(`wrote the report JSON to ${values.out}\n`);
  return { replay, report, invalid };
}
