/**
 * Planned moments of a room (DESIGN §4 Plans): validation, storage and scheduling. A write is one script
 * (plan-write.lua: hash + out-stream `plan` update + a `cancel` record for the detector), then the old
 * version's jobs are removed and the new version's added (workers/plan-scheduler.ts). Should the process
 * die between the two, the scheduler re-adds every stored plan's jobs when it starts, and plan-fire.lua
 * refuses any job whose version is no longer the stored one.
 */
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { PlannedMoment, PlanRecord, RoomUpdate } from '../core/protocol.ts';
import type { FieldError } from '../core/events.ts';
import { shardOf } from '../core/sharding.ts';
import { schedulePlan, unschedulePlan } from '../workers/plan-scheduler.ts';
import { HttpError, notFound } from './http-error.ts';
import { keys } from './redis-keys.ts';
import { scripts, type RedisClient } from './lua/scripts.ts';
import { bodyFieldError } from './zod-field-error.ts';

export const MAX_PLANS_PER_ROOM = 50;
/** A moment may be planned up to this far ahead, and saved up to a minute late (the launch still fires). */
const MAX_AHEAD_MS = 30 * 86_400_000;
const MAX_LATE_MS = 60_000;

const msg = (reason: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : reason) });
const optionalText = (max: number) =>
  z
    .string(msg('must be a string'))
    .trim()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .nullable()
    .transform((v) => (v ? v : null));

/**
 * What a caller sends to create or edit a moment. `at`: ms since epoch, or an ISO 8601 date-time with a
 * zone (2026-12-01T20:00:00+08:00). `budget` in minor units (fen, cents).
 */
export const planInputSchema = z.strictObject({
  at: z.union([z.number(), z.string()], msg('must be ms since epoch or an ISO date-time')).transform((v, c) => {
    const ms = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : /(Z|[+-]\d\d:?\d\d)$/i.test(v.trim()) ? Date.parse(v) : NaN;
    if (!Number.isSafeInteger(ms) || ms <= 0) {
      c.addIssue({ code: 'custom', message: 'must be ms since epoch or an ISO date-time with a zone (…T20:00:00+08:00)' });
      return z.NEVER;
    }
    return ms;
  }),
  sku: z.string(msg('must be a string')).trim().min(1, 'is required').max(128, 'must be at most 128 characters'),
  name: optionalText(200),
  welfare: optionalText(500),
  leadMin: z.coerce.number(msg('must be a whole number of minutes from 1 to 60')).int('must be a whole number of minutes from 1 to 60').min(1, 'must be at least 1 minute').max(60, 'must be at most 60 minutes').default(10),
  budget: z.coerce.number(msg('must be a whole amount in minor units (fen, cents)')).int('must be a whole amount in minor units (fen, cents)').min(0, 'must not be negative').max(1e12, 'is too large').optional().nullable().transform((v) => v ?? null),
  /** On edit: the version the caller saw; a different stored version answers 409 instead of overwriting. */
  version: z.number().int().min(1).optional(),
});
export type PlanInput = z.output<typeof planInputSchema>;

export const PLAN_FIELDS = ['at', 'sku', 'name', 'welfare', 'leadMin', 'budget'] as const;

export interface RowError {
  /** 1-based: the n-th plan of a JSON array, the n-th data line of a CSV file (the header is row 0). */
  row: number;
  field: string;
  reason: string;
}

/** The first zod issue of one plan as field + reason (absent fields say "is required"). */
export function planFieldError(err: z.ZodError): FieldError {
  return bodyFieldError(err, PLAN_FIELDS);
}

/** A room's planned moments, by time. */
export async function listPlans(redis: RedisClient, shards: number, room: string): Promise<PlannedMoment[]> {
  const raw = await redis.hvals(keys.plans(shardOf(room, shards), room));
  return raw.map((j) => JSON.parse(j) as PlannedMoment).sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
}

export interface PlanStoreOptions {
  shards: number;
  outStreamMaxLen: number;
  countdownMin: readonly number[];
  /** The scheduling queue (created lazily by the caller, so an API that never writes plans opens none). */
  queue: () => Queue;
}

export class PlanStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly opts: PlanStoreOptions,
  ) {}

  list(room: string): Promise<PlannedMoment[]> {
    return listPlans(this.redis, this.opts.shards, room);
  }

  async get(room: string, id: string): Promise<PlannedMoment | null> {
    const raw = await this.redis.hget(keys.plans(shardOf(room, this.opts.shards), room), id);
    return raw ? (JSON.parse(raw) as PlannedMoment) : null;
  }

  /** Checks a moment's time against `now`; null when fine, else the reason. */
  static timeProblem(at: number, now: number): string | null {
    if (at < now - MAX_LATE_MS) return 'is in the past';
    if (at > now + MAX_AHEAD_MS) return 'is more than 30 days ahead';
    return null;
  }

  async create(room: string, input: PlanInput, by: string, now = Date.now()): Promise<PlannedMoment> {
    const plan = build(room, `p${randomBytes(6).toString('hex')}`, 1, input, by, now);
    await this.write(room, plan.id, 0, plan, null);
    await schedulePlan(this.opts.queue(), plan, this.opts.countdownMin, now);
    return plan;
  }

  async update(room: string, id: string, input: PlanInput, by: string, now = Date.now()): Promise<PlannedMoment> {
    const old = await this.get(room, id);
    if (!old) throw notFound(`no planned moment "${id}" in room "${room}"`);
    if (input.version !== undefined && input.version !== old.version) throw conflict(old.version);
    const plan = build(room, id, old.version + 1, input, by, now);
    await this.write(room, id, old.version, plan, old);
    const queue = this.opts.queue();
    await unschedulePlan(queue, old, this.opts.countdownMin);
    await schedulePlan(queue, plan, this.opts.countdownMin, now);
    return plan;
  }

  async remove(room: string, id: string): Promise<void> {
    const old = await this.get(room, id);
    if (!old) throw notFound(`no planned moment "${id}" in room "${room}"`);
    await this.write(room, id, old.version, null, old);
    await unschedulePlan(this.opts.queue(), old, this.opts.countdownMin);
  }

  private async write(room: string, id: string, expect: number, plan: PlannedMoment | null, old: PlannedMoment | null): Promise<void> {
    const shard = shardOf(room, this.opts.shards);
    const update: RoomUpdate = { type: 'plan', room, planId: id, plan };
    const cancel: PlanRecord | null = old && {
      room, planId: id, version: old.version, kind: 'cancel', offsetMin: 0, atTs: old.at,
      sku: old.sku, name: old.name, welfare: old.welfare, budget: old.budget, leadMin: old.leadMin,
    };
    const r = (await scripts.planWrite.run(
      this.redis,
      [keys.plans(shard, room), keys.planRooms(shard), keys.out(shard), keys.events(shard)],
      [id, expect, plan ? JSON.stringify(plan) : '', room, JSON.stringify(update), cancel ? JSON.stringify(cancel) : '', this.opts.outStreamMaxLen, MAX_PLANS_PER_ROOM],
    )) as [number, string, number?];
    if (r[0] === 1) return;
    if (r[1] === 'too-many') throw new HttpError(409, 'too-many-plans', `at most ${MAX_PLANS_PER_ROOM} planned moments per room; delete old ones first`);
    throw conflict(Number(r[2]));
  }
}

const conflict = (current: number) =>
  new HttpError(409, 'conflict', `the plan was changed meanwhile (now version ${current}): reload it and edit again`, { field: 'version' });

function build(room: string, id: string, version: number, p: PlanInput, by: string, now: number): PlannedMoment {
  return { id, room, version, at: p.at, sku: p.sku, name: p.name, welfare: p.welfare, leadMin: p.leadMin, budget: p.budget, updatedAt: now, updatedBy: by };
}

/**
 * RFC 4180-ish CSV: a header line naming the columns (any order, case-insensitive), commas, double quotes
 * around fields that hold commas, quotes ("") or line breaks. Returns rows as objects of the header's names;
 * empty cells are left out (so optional columns may be blank).
 */
export function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const lines: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      row.push(cell);
      lines.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    lines.push(row);
  }
  const nonEmpty = lines.filter((l) => l.some((c) => c.trim() !== ''));
  const header = (nonEmpty.shift() ?? []).map((h) => h.trim());
  const rows = nonEmpty.map((cells) => {
    const o: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = cells[i]?.trim();
      if (v) o[h] = v;
    });
    return o;
  });
  return { header, rows };
}
