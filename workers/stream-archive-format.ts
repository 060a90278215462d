/**
 * The archive of one room's stream: `<dir>/<room>/<streamId>.ndjson.gz`, gzip NDJSON, one line per stream
 * entry the live detector applied to the room, in the order it applied them:
 *  - an accepted event, exactly as ingest stored it (contract v1; lines with a `type`);
 *  - `{"clock": ts}`: the detector's clock record moved the room to event time `ts` (time with no events);
 *  - `{"plan": {...}}`: a plan record (cue or cancel) the detector applied (core/plans.ts).
 * The last two are what makes a core replay of the file give exactly the live outputs (ticks between sparse
 * events, cues); `crest replay` into ingest skips them, and `jq 'select(.type)'` gives the events alone.
 *
 * Written atomically (temporary file in the same folder, fsync, rename, fsync of the folder), so a reader
 * sees the whole file or none.
 */
import { open, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseEvent, type CrestEvent } from '../core/events.ts';
import { parsePlanRecord } from '../core/plans.ts';
import type { PlanRecord } from '../core/protocol.ts';

export type ArchiveLine = CrestEvent | { clock: number } | { plan: PlanRecord };

/** Stream ids are file names: ISO basic UTC time of the stream's first entry, e.g. `20260101T200000Z`. */
export const STREAM_ID_PATTERN = /^[0-9]{8}T[0-9]{6}Z(-[0-9]{1,4})?$/;

/** The id of a stream that opened at event time `ts`; `n` > 1 tells apart streams opened in the same second. */
export function streamIdOf(ts: number, n = 1): string {
  const iso = new Date(ts).toISOString(); // 2026-01-01T20:00:00.000Z
  const id = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return n > 1 ? `${id}-${n}` : id;
}

export function archivePath(dir: string, room: string, streamId: string): string {
  return join(dir, room, `${streamId}.ndjson.gz`);
}

export function isEventLine(line: ArchiveLine): line is CrestEvent {
  return 'type' in line;
}

/** Writes `data` to `path` so that a reader sees all of it or nothing, and it survives a machine crash. */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself must reach the disk: fsync the folder.
  const dh = await open(dirname(path), 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export async function writeArchive(path: string, lines: readonly string[]): Promise<number> {
  const gz = gzipSync(Buffer.from(lines.length ? lines.join('\n') + '\n' : '', 'utf8'));
  await writeFileAtomic(path, gz);
  return gz.length;
}

/** Parses one archive line; null for anything that is not one of the three kinds (validated like ingest). */
export function parseArchiveLine(value: unknown): ArchiveLine | null {
  if (typeof value !== 'object' || value === null) return null;
  if ('type' in value) {
    const r = parseEvent(value);
    return r.ok ? r.event : null;
  }
  const o = value as Record<string, unknown>;
  if (typeof o.clock === 'number' && Number.isSafeInteger(o.clock) && Object.keys(o).length === 1) return { clock: o.clock };
  if (o.plan !== undefined && Object.keys(o).length === 1) {
    const plan = parsePlanRecord(JSON.stringify(o.plan));
    return plan ? { plan } : null;
  }
  return null;
}

/** Reads a whole archive (strict gzip: a file cut short is an error, never a silently shorter stream). */
export async function readArchive(path: string): Promise<ArchiveLine[]> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  const out: ArchiveLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!;
    if (!t) continue;
    const line = parseArchiveLine(JSON.parse(t));
    if (!line) throw new Error(`${path}: line ${i + 1} is not an event, clock or plan line`);
    out.push(line);
  }
  return out;
}
