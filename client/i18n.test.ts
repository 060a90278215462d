import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Suggestion } from '../core/protocol.ts';
import { createI18n, loadLang } from './i18n.ts';

const base: Suggestion = {
  id: 's', room: 'r', audience: 'buyer', kind: 'boost.now', reasonCode: 'rising', params: { liftPct: 42.34 },
  reason: 'Concurrency up 42% over baseline', confidence: 0.8, createdAt: 0, expiresAt: 1, cooldownKey: 'k',
  windowId: null, forecastPeakTs: null, suggestedBoostMin: null, suppressed: null,
};

describe('i18n', () => {
  before(() => Promise.all([loadLang('en'), loadLang('zh-CN')]));

  it('translates a reason from its code and params', () => {
    assert.equal(createI18n('zh-CN').reason(base), '在线人数比基线高 42.3%');
    assert.equal(createI18n('en').reason(base), 'Viewers up 42.3% over baseline');
  });

  it('picks the first wording whose parameters the suggestion carries', () => {
    const boost = { ...base, params: { liftPct: 42, baseline: 1200, forSec: 35, boostMin: 6 } };
    assert.equal(createI18n('zh-CN').reason(boost), '在线人数比基线 1,200 高 42%，已持续 35 秒');
    const launch = { ...base, kind: 'cue.launch' as const, reasonCode: 'near-peak' as const, params: { peak: 2100, concurrency: 2050 } };
    assert.equal(createI18n('en').reason(launch), 'Viewers at their peak (2,100, now 2,050)');
  });

  it('falls back to the English reason in English, and to a plain wording in Chinese', () => {
    assert.equal(createI18n('en').reason({ ...base, params: {} }), base.reason);
    assert.equal(createI18n('zh-CN').reason({ ...base, params: {} }), '在线人数正在上涨');
  });

  it('formats money from minor units in RMB by default, in both languages', () => {
    assert.equal(createI18n('en').money(123456), '¥1,234.56');
    assert.equal(createI18n('zh-CN').money(123456), '¥1,234.56');
    assert.equal(createI18n('zh-CN').money(123_456_700, true), '¥123.5万');
    assert.equal(createI18n('en', 'USD').money(150), '$1.50');
  });

  it('says when the peak is expected', () => {
    assert.equal(createI18n('en').peakIn(4 * 60_000), 'peak expected in ~4 min');
    assert.equal(createI18n('zh-CN').peakIn(4 * 60_000), '预计约4分钟后到达峰值');
  });

  it('refuses a language whose table was never loaded, rather than showing keys', async () => {
    const { createI18n: fresh } = await import(`./i18n.ts?fresh=${Date.now()}`);
    assert.throws(() => fresh('zh-CN'), /not loaded/);
  });

  it('passes unknown error codes through and translates known ones', () => {
    assert.equal(createI18n('zh-CN').error('unauthorized'), '未授权，请检查令牌');
    assert.equal(createI18n('en').error('weird-code'), 'weird-code');
  });
});
