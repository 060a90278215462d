/**
 * `crest report --room R [--format html|json|csv] [--out FILE] [--stream current|ID] [--tz ZONE] [--plans FILE.json]`:
 * the post-stream report from Crest's Redis (REDIS_URL), the same figures as
 * `GET /api/v1/rooms/:room/report`; `--stream ID` reports a past stream from its archive
 * (CREST_ARCHIVE_DIR, default CREST_DATA_DIR/archive), `--stream list` lists the room's streams. Without --out it goes to stdout; with --out the file is written
 * atomically (temporary file, then rename). `--plans` compares against planned moments from a JSON file
 * (an array, or `{ "plans": [...] }`; `at` as ms since epoch or an ISO date-time).
 */
import { createRedis } from '../server/redis-connection.ts';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../config/config.ts';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import type { PlannedMomentInput } from '../core/report.ts';
import { CURRENT_STREAM, loadRoomReport, UnknownStreamError } from '../server/report/load-room-report.ts';
import { HistoryStore } from '../server/history-store.ts';
import { loadArchivedReport, PastStreamError } from '../server/history-report.ts';
import { join, resolve } from 'node:path';
import { STREAM_ID_PATTERN } from './stream-archive-format.ts';
import { timeZoneOrThrow } from '../server/report/report-format.ts';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../server/report/render-report.ts';
import { RoomStore } from '../server/room-store.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { PROJECT_ROOT } from '../server/project-paths.ts';

export const REPORT_USAGE =
  'crest report --room ROOM [--stream current|ID|list] [--format html|json|csv] [--out FILE] [--tz Asia/Shanghai] [--plans PLANS.json]';

const plannedMomentSchema = z.object({
  id: z.string().min(1).max(128),
  at: z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]),
  sku: z.string().min(1).max(128),
  name: z.string().max(256).nullish(),
  leadMin: z.number().positive().max(24 * 60),
  budget: z.number().int().nonnegative().nullish(),
});
const plansFileSchema = z.union([z.array(plannedMomentSchema), z.object({ plans: z.array(plannedMomentSchema) })]);

export interface ReportCommandResult {
  room: string;
  format: ReportFormat;
  bytes: number;
  out: string | null;
}

export async function reportCommand(
  args: string[],
  env: Record<string, string | undefined> = process.env,
  stdout: (text: string) => void = (text) => process.stdout.write(text),
): Promise<ReportCommandResult> {
  const { values } = parseArgs({
    args,
    options: {
      room: { type: 'string' },
      format: { type: 'string', default: 'html' },
      out: { type: 'string' },
      stream: { type: 'string' },
      tz: { type: 'string', default: 'UTC' },
      plans: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    stdout(`usage: ${REPORT_USAGE}\n`);
    return { room: '', format: 'html', bytes: 0, out: null };
  }
  const room = values.room;
  if (!room) throw new CommandUsageError(`usage: ${REPORT_USAGE}`);
  if (!ROOM_ID_PATTERN.test(room)) throw new CommandUsageError('--room must be 1–64 characters of A-Z a-z 0-9 _ . -');
  const format = values.format as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new CommandUsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
  try {
    timeZoneOrThrow(values.tz!);
  } catch {
    throw new CommandUsageError('--tz must be an IANA time zone such as UTC or Asia/Shanghai');
  }
  const plannedMoments = values.plans ? await readPlans(values.plans) : null;

  const config = loadConfig(env);
  if (!config.redisUrl) throw new CommandUsageError("crest report needs REDIS_URL pointing at Crest's Redis (`crest start` prints it)");
  const redis = createRedis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {}); // reported through the failing calls below
  try {
    try {
      await redis.connect();
    } catch (err) {
      throw new CommandUsageError(`crest report: cannot reach Redis at REDIS_URL (${(err as Error).message})`);
    }
    const store = new RoomStore(redis, config.shards, config.outStreamMaxLen);
    const history = new HistoryStore(redis, config.shards);
    if (values.stream === 'list') {
      const streams = await history.list(room);
      const text = streams.length
        ? streams.map((s) => `${s.id}  ${s.status.padEnd(8)}  ${new Date(s.startTs).toISOString()} → ${s.endTs ? new Date(s.endTs).toISOString() : 'open'}  ${s.events ?? '-'} events  GMV ${s.summary?.gmv ?? '-'}`).join('\n') + '\n'
        : `no streams of ${room} recorded (history needs the archiver part: crest start, or crest worker archiver)\n`;
      stdout(text);
      return { room, format, bytes: Buffer.byteLength(text), out: null };
    }
    let report;
    try {
      if (values.stream !== undefined && values.stream !== CURRENT_STREAM && STREAM_ID_PATTERN.test(values.stream)) {
        const dir = resolve(PROJECT_ROOT, config.archive.dir ?? join(config.dataDir, 'archive'));
        const acks = await store.acks(room);
        report = (await loadArchivedReport(room, values.stream, { dir, history, engine: config.engine, now: Date.now(), acks, plannedMoments })).report;
      } else report = await loadRoomReport(store, room, { stream: values.stream, plannedMoments, now: Date.now() });
    } catch (err) {
      if (err instanceof UnknownStreamError || err instanceof PastStreamError) throw new CommandUsageError(err.message);
      throw err;
    }
    if (!report) throw new CommandUsageError(`no events seen yet for room "${room}" on this Redis (check REDIS_URL and the room id)`);
    const { body } = renderReport(report, format, { timeZone: values.tz });
    if (values.out) {
      const tmp = `${values.out}.${process.pid}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, values.out);
      process.stderr.write(`wrote the ${format} report of ${room} to ${values.out}\n`);
    } else stdout(body);
    return { room, format, bytes: Buffer.byteLength(body), out: values.out ?? null };
  } finally {
    redis.disconnect();
  }
}

async function readPlans(file: string): Promise<PlannedMomentInput[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CommandUsageError(`--plans ${file}: ${(err as Error).message}`);
  }
  const parsed = plansFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CommandUsageError(`--plans ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.plans;
}
