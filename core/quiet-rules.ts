/**
 * Alert rules per room and audience, so nobody is spammed: muted kinds, quiet hours, a per-kind cooldown
 * and at most N alerts per M minutes. Applied where alerts leave Crest (webhook deliveries); the suggestion
 * itself stays in the operator log, and the hold is recorded with its reason.
 *
 * Pure and deterministic: the decision is a function of the rules, the audience's earlier decisions (state)
 * and the suggestion, on event time (`createdAt`), never the wall clock. Quiet hours are read in the rule's
 * IANA zone with Intl (tz data, no clock).
 */
import { z } from 'zod';
import { SUGGESTION_KINDS, type Audience, type Suggestion, type SuggestionKind } from './protocol.ts';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

const audienceRuleSchema = z.strictObject({
  mutedKinds: z.array(z.enum(SUGGESTION_KINDS as [SuggestionKind, ...SuggestionKind[]], `must be one of ${SUGGESTION_KINDS.join(', ')}`)).max(16).optional(),
  quietHours: z
    .strictObject({
      from: z.string().regex(HHMM, 'must be HH:MM (24 h)'),
      to: z.string().regex(HHMM, 'must be HH:MM (24 h)'),
      tz: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai or UTC').default('UTC'),
    })
    .refine((q) => q.from !== q.to, { message: 'from and to must differ', path: ['to'] })
    .optional(),
  cooldownMinutes: z.number().int('must be a whole number of minutes').min(1, 'must be at least 1').max(1_440, 'must be at most 1440').optional(),
  maxAlerts: z
    .strictObject({
      count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000, 'must be at most 1000'),
      perMinutes: z.number().int('must be a whole number of minutes').min(1, 'must be at least 1').max(1_440, 'must be at most 1440'),
    })
    .optional(),
});
/** One audience's rules. Every part is optional; an empty object holds nothing. */
export type AudienceRule = z.infer<typeof audienceRuleSchema>;

/** Rules of one room, per receiving audience (`operator` covers operator subscriptions, which get every audience). */
export const alertRulesSchema = z.strictObject({
  buyer: audienceRuleSchema.optional(),
  host: audienceRuleSchema.optional(),
  operator: audienceRuleSchema.optional(),
});
export type AlertRules = z.infer<typeof alertRulesSchema>;

/** Alerts that went out per receiving audience, [kind, createdAt], for cooldowns and rate limits. */
export interface QuietState {
  sent: Partial<Record<Audience, [SuggestionKind, number][]>>;
}
export const emptyQuietState = (): QuietState => ({ sent: {} });

export type HoldCode = 'muted' | 'quiet-hours' | 'cooldown' | 'rate-limit';
export interface Hold {
  code: HoldCode;
  /** One English sentence for the operator log. */
  reason: string;
}

/** Who receives a suggestion: its own audience, and operators (who get everything). */
export function receivingAudiences(s: Pick<Suggestion, 'audience'>): Audience[] {
  return s.audience === 'operator' ? ['operator'] : [s.audience, 'operator'];
}

/** Kept history bound: a state never holds more than this many alerts per audience. */
const MAX_KEPT = 256;
const MIN = 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Minute of the day (0..1439) of `ts` in zone `tz`. */
export function localMinuteOfDay(ts: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  let h = 0;
  let m = 0;
  for (const p of f.formatToParts(ts)) {
    if (p.type === 'hour') h = Number(p.value);
    else if (p.type === 'minute') m = Number(p.value);
  }
  return h * 60 + m;
}

const toMinute = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Inside [from, to), wrapping midnight when from > to (22:00–08:00). */
export function inQuietHours(ts: number, q: { from: string; to: string; tz: string }): boolean {
  const now = localMinuteOfDay(ts, q.tz);
  const from = toMinute(q.from);
  const to = toMinute(q.to);
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** Why `rule` holds `s` back for `audience`, given what already went out; null when it may go. */
function holdFor(rule: AudienceRule, sent: [SuggestionKind, number][], s: Suggestion, audience: Audience): Hold | null {
  if (rule.mutedKinds?.includes(s.kind)) return { code: 'muted', reason: `${s.kind} is muted for the ${audience} audience` };
  if (rule.quietHours && inQuietHours(s.createdAt, rule.quietHours)) {
    const q = rule.quietHours;
    return { code: 'quiet-hours', reason: `quiet hours ${q.from}–${q.to} ${q.tz} for the ${audience} audience` };
  }
  if (rule.cooldownMinutes !== undefined) {
    const last = sent.filter(([k, at]) => k === s.kind && Math.abs(s.createdAt - at) < rule.cooldownMinutes! * MIN).at(-1);
    if (last) {
      const ago = Math.round(Math.abs(s.createdAt - last[1]) / MIN);
      return { code: 'cooldown', reason: `${s.kind} went to the ${audience} audience ${ago} min before (cooldown ${rule.cooldownMinutes} min)` };
    }
  }
  if (rule.maxAlerts) {
    const { count, perMinutes } = rule.maxAlerts;
    const recent = sent.filter(([, at]) => Math.abs(s.createdAt - at) < perMinutes * MIN).length;
    if (recent >= count) return { code: 'rate-limit', reason: `${recent} alert${recent === 1 ? '' : 's'} already went to the ${audience} audience within ${perMinutes} min (limit ${count})` };
  }
  return null;
}

/**
 * Decides, for every audience that receives `s` and has rules, whether it is held back; alerts that go out
 * are remembered in the returned state. Held ones are not counted against cooldowns or limits.
 */
export function applyAlertRules(rules: AlertRules, state: QuietState, s: Suggestion): { state: QuietState; holds: Partial<Record<Audience, Hold>> } {
  const holds: Partial<Record<Audience, Hold>> = {};
  const sent = { ...state.sent };
  for (const audience of receivingAudiences(s)) {
    const rule = rules[audience];
    if (!rule) continue;
    const prior = sent[audience] ?? [];
    const hold = holdFor(rule, prior, s, audience);
    if (hold) {
      holds[audience] = hold;
      continue;
    }
    const horizon = Math.max(rule.cooldownMinutes ?? 0, rule.maxAlerts?.perMinutes ?? 0) * MIN;
    sent[audience] = [...prior, [s.kind, s.createdAt] as [SuggestionKind, number]]
      .filter(([, at]) => Math.abs(s.createdAt - at) < horizon || at === s.createdAt)
      .slice(-MAX_KEPT);
  }
  return { state: { sent }, holds };
}
