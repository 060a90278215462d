import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Suggestion, SuggestionKind } from './protocol.ts';
import { alertRulesSchema, applyAlertRules, emptyQuietState, inQuietHours, localMinuteOfDay, type AlertRules, type QuietState } from './quiet-rules.ts';

const MIN = 60_000;
// 2026-11-25 00:00 UTC = 08:00 in Asia/Shanghai.
const MIDNIGHT_UTC = Date.UTC(2026, 10, 25);

function sug(minute: number, kind: SuggestionKind = 'boost.now', audience: Suggestion['audience'] = 'buyer'): Suggestion {
  const ts = MIDNIGHT_UTC + 10 * 60 * MIN + minute * MIN;
  return {
    id: `r:${kind}:${ts}`, room: 'r', audience, kind, reasonCode: 'rising', params: {}, reason: 'x', confidence: 0.5,
    createdAt: ts, expiresAt: ts + 5 * MIN, cooldownKey: `r:${kind}`, windowId: null, forecastPeakTs: null, suggestedBoostMin: null, suppressed: null,
  };
}

function run(rules: AlertRules, seq: Suggestion[]) {
  let state: QuietState = emptyQuietState();
  return seq.map((s) => {
    const out = applyAlertRules(rules, state, s);
    state = out.state;
    return out.holds;
  });
}

test('local time in a zone, and quiet hours that wrap midnight', () => {
  assert.equal(localMinuteOfDay(MIDNIGHT_UTC, 'UTC'), 0);
  assert.equal(localMinuteOfDay(MIDNIGHT_UTC, 'Asia/Shanghai'), 8 * 60);
  const night = { from: '22:00', to: '08:00', tz: 'Asia/Shanghai' };
  assert.equal(inQuietHours(MIDNIGHT_UTC - 1 * MIN, night), true, '07:59 Shanghai');
  assert.equal(inQuietHours(MIDNIGHT_UTC, night), false, '08:00 Shanghai: the end is exclusive');
  assert.equal(inQuietHours(MIDNIGHT_UTC + 14 * 60 * MIN, night), true, '22:00 Shanghai');
  const lunch = { from: '12:00', to: '13:30', tz: 'UTC' };
  assert.equal(inQuietHours(MIDNIGHT_UTC + 12 * 60 * MIN, lunch), true);
  assert.equal(inQuietHours(MIDNIGHT_UTC + 13 * 60 * MIN + 30 * MIN, lunch), false);
});

test('muted kinds, quiet hours, cooldown and rate limit each hold with their reason; held ones do not count', () => {
  assert.deepEqual(run({ buyer: { mutedKinds: ['boost.stop'] } }, [sug(0, 'boost.stop')])[0], {
    buyer: { code: 'muted', reason: 'boost.stop is muted for the buyer audience' },
  });
  // 10:00 UTC is 18:00 in Shanghai.
  assert.equal(run({ buyer: { quietHours: { from: '17:00', to: '19:00', tz: 'Asia/Shanghai' } } }, [sug(0)])[0]!.buyer?.code, 'quiet-hours');
  assert.deepEqual(run({ buyer: { quietHours: { from: '17:00', to: '19:00', tz: 'UTC' } } }, [sug(0)])[0], {});

  const cd = run({ buyer: { cooldownMinutes: 10 } }, [sug(0), sug(4), sug(4, 'boost.stop'), sug(9), sug(10), sug(12)]);
  assert.deepEqual(cd.map((h) => h.buyer?.code ?? 'sent'), ['sent', 'cooldown', 'sent', 'cooldown', 'sent', 'cooldown']);
  assert.equal(cd[1]!.buyer!.reason, 'boost.now went to the buyer audience 4 min before (cooldown 10 min)');

  const rl = run({ buyer: { maxAlerts: { count: 2, perMinutes: 5 } } }, [sug(0), sug(1, 'boost.stop'), sug(2), sug(3), sug(5), sug(6), sug(7)]);
  assert.deepEqual(rl.map((h) => h.buyer?.code ?? 'sent'), ['sent', 'sent', 'rate-limit', 'rate-limit', 'sent', 'sent', 'rate-limit']);
  assert.equal(rl[2]!.buyer!.reason, '2 alerts already went to the buyer audience within 5 min (limit 2)');
});

test('rules apply per receiving audience: operators get every audience under their own rule', () => {
  const rules: AlertRules = { buyer: { mutedKinds: ['boost.now'] }, operator: { maxAlerts: { count: 1, perMinutes: 60 } } };
  const out = run(rules, [sug(0), sug(1, 'cue.tease', 'host'), sug(2, 'plan.at-risk', 'operator')]);
  assert.equal(out[0]!.buyer?.code, 'muted');
  assert.equal(out[0]!.operator, undefined, 'the operator still gets the boost the buyer muted');
  assert.equal(out[1]!.host, undefined, 'no host rule');
  assert.equal(out[1]!.operator?.code, 'rate-limit');
  assert.equal(out[2]!.operator?.code, 'rate-limit');
  assert.deepEqual(run({}, [sug(0)])[0], {}, 'no rules, no holds');
});

test('property: never more than N alerts go out to an audience within any M minutes, and the same sequence gives the same decisions', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.constantFrom<SuggestionKind>('boost.now', 'boost.stop')), { maxLength: 60 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 30 }),
      (raw, count, perMinutes) => {
        const seq = raw.sort((a, b) => a[0] - b[0]).map(([m, k]) => sug(m, k));
        const rules: AlertRules = { buyer: { maxAlerts: { count, perMinutes } } };
        const a = run(rules, seq);
        assert.deepEqual(run(rules, seq), a);
        const sent = seq.filter((_, i) => !a[i]!.buyer).map((s) => s.createdAt);
        for (const t of sent) assert.ok(sent.filter((u) => u >= t && u - t < perMinutes * MIN).length <= count, 'sent.filter((u) => u >= t && u - t < perMinutes * MIN).length <= count');
      },
    ),
    { numRuns: 300 },
  );
});

test('the rules schema names what is wrong', () => {
  const bad = (v: unknown) => {
    const r = alertRulesSchema.safeParse(v);
    assert.equal(r.success, false, JSON.stringify(v));
    return r.error!.issues[0]!;
  };
  assert.deepEqual(bad({ buyer: { quietHours: { from: '25:00', to: '08:00' } } }).path, ['buyer', 'quietHours', 'from']);
  assert.equal(bad({ buyer: { quietHours: { from: '22:00', to: '08:00', tz: 'Mars/Olympus' } } }).message, 'must be an IANA time zone such as Asia/Shanghai or UTC');
  assert.deepEqual(bad({ host: { mutedKinds: ['nope'] } }).path, ['host', 'mutedKinds', 0]);
  assert.deepEqual(bad({ viewer: {} }).code, 'unrecognized_keys');
  assert.deepEqual(bad({ buyer: { maxAlerts: { count: 0, perMinutes: 5 } } }).path, ['buyer', 'maxAlerts', 'count']);
  assert.equal(alertRulesSchema.parse({ buyer: { quietHours: { from: '22:00', to: '08:00' } } }).buyer!.quietHours!.tz, 'UTC');
});
