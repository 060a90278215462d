/**
 * The report as one self-contained HTML page: inline CSS, the chart as inline SVG, no script and no
 * external request, so it opens offline and can be mailed around. Every string from outside (room,
 * product names, reasons, who acknowledged) goes through `esc`. Headers are English with Chinese beside.
 */
import type { PlanOutcome, RoomReport } from '../../core/report.ts';
import type { WindowState } from '../../core/protocol.ts';
import { money, num, pct, timeFormatter } from './report-format.ts';

/** HTML-escapes text for element content and double- or single-quoted attributes. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STATE_COLOUR: Record<WindowState, string> = {
  building: '#fcd34d',
  rising: '#f59e0b',
  peak: '#dc2626',
  ended: '#6366f1',
  retracted: '#9ca3af',
};
const AUDIENCE_COLOUR = { buyer: '#0891b2', host: '#16a34a', operator: '#7c3aed' } as const;
const OUTCOME_LABEL: Record<PlanOutcome, string> = {
  hit: 'hit 命中',
  early: 'early 提前',
  late: 'late 滞后',
  miss: 'miss 未起量',
  pending: 'pending 未到',
};

export function renderReportHtml(r: RoomReport, opts: { timeZone?: string } = {}): string {
  const tz = opts.timeZone ?? 'UTC';
  const t = timeFormatter(tz);
  const s = r.summary;
  const cards: [string, string][] = s
    ? [
        ['Peak viewers 峰值在线', num(s.peakConcurrency)],
        ['GMV 成交额', money(s.gmv)],
        ['Orders 订单', num(s.orders)],
        ['Conversion 转化率', pct(s.conversion)],
        ['Avg watch 平均观看', `${num(s.avgWatchSec)} s`],
        ['GMV / 1k watch-min 千分钟成交', money(s.gmvPerKWatchMin)],
        ['Ad spend 投放', money(s.adSpend)],
        ['Spend in windows 高光内投放', s.adSpendInWindows === null ? 'n/a' : money(s.adSpendInWindows)],
        ['GMV / spend in windows 高光内投产比', s.gmvPerSpendInWindows === null ? 'n/a' : num(s.gmvPerSpendInWindows, 2)],
        ['GMV / spend outside 高光外投产比', s.gmvPerSpendOutsideWindows === null ? 'n/a' : num(s.gmvPerSpendOutsideWindows, 2)],
        ['Follows 新增关注', num(r.follows.gained)],
      ]
    : [];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crest report · ${esc(r.room)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.meta{color:#4b5563}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:8px 12px;min-width:130px}.card b{display:block;font-size:20px}
.card span{color:#6b7280;font-size:12px}table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}td{white-space:nowrap}td.w{white-space:normal;min-width:14em}.scroll{overflow-x:auto}th{background:#f9fafb;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#6b7280;font-size:12px;margin:4px 0}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px;border-radius:2px}
svg{max-width:100%;height:auto;font:11px system-ui,sans-serif}
@media print{body{margin:8mm}}
</style>
</head>
<body>
<h1>Crest report 直播复盘 · ${esc(r.room)}</h1>
<p class="meta">Stream 场次: ${esc(r.stream)} · ${esc(t(r.span?.fromTs ?? null))} – ${esc(t(r.span?.toTs ?? null))} (${esc(tz)}) · generated 生成于 ${esc(t(r.generatedAt))}${s ? ` · ${s.live ? 'live 直播中' : 'ended 已结束'}` : ''}</p>
<div class="cards">${cards.map(([k, v]) => `<div class="card"><b>${esc(v)}</b><span>${esc(k)}</span></div>`).join('')}</div>
<h2>Timeline 走势</h2>
${chart(r, t)}
<p class="legend">${(['rising', 'peak', 'ended'] as WindowState[])
    .map((st) => `<span><i class="sw" style="background:${STATE_COLOUR[st]};opacity:.35"></i>window ${st}</span>`)
    .join('')}${Object.entries(AUDIENCE_COLOUR)
    .map(([a, c]) => `<span><i class="sw" style="background:${c}"></i>suggestion → ${a}</span>`)
    .join('')}<span><i class="sw" style="background:#111827"></i>planned moment 计划节点</span></p>
<p class="note">Concurrency is the highest value in each ${esc(r.timeline.bucketPoints)} s bucket (${esc(r.timeline.sourcePoints)} points retained).</p>
${windowsTable(r, t)}
${plansTable(r, t)}
${suggestionsTable(r, t)}
${decompositionTable(r)}
<h2>Top products 爆品</h2>
${table(
  ['# 排名', 'SKU', 'Name 名称', 'GMV 成交额', 'Orders 订单', 'Error bound 误差上限'],
  (r.topProducts ?? []).map((p, i) => [String(i + 1), p.sku, p.name ?? '', money(p.gmv), num(p.orders), p.gmvError === 0 ? 'exact' : money(p.gmvError)]),
  new Set([3, 4]),
  new Set([2]),
)}
<p class="note">${esc(r.topProductsNote)}</p>
<h2>Notes 说明</h2>
<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}<li>${esc(r.follows.note)}</li></ul>
</body>
</html>
`;
}

type Fmt = (ts: number | null) => string;
/** Time of day only (the page header carries the date): keeps the wide tables narrow. */
const clock = (full: Fmt): Fmt => (ts) => full(ts).slice(11);

/** `wrap`: columns of free text (reasons, product names) that may wrap; the rest stay on one line. */
function table(head: string[], rows: string[][], numeric: Set<number> = new Set(), wrap: Set<number> = new Set()): string {
  if (!rows.length) return '<p class="note">None. 无。</p>';
  const cls = (i: number) => (numeric.has(i) ? ' class="n"' : wrap.has(i) ? ' class="w"' : '');
  return `<div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((cells) => `<tr>${cells.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

function windowsTable(r: RoomReport, full: Fmt): string {
  const t = clock(full);
  return `<h2>Highlight windows 高光时段</h2>${table(
    ['State 状态', 'Onset 起量', 'Detected 识别', 'Onset latency 识别延迟', 'Peak at 峰值时刻', 'End 结束', 'Baseline 基线', 'Peak 峰值', 'Lift 提升', 'GMV 成交额', 'Orders 订单', 'Spend build-up 起量期投放', 'Spend after peak 峰后投放', 'Build-up share 起量期占比'],
    r.windows.map((w) => [
      w.state,
      t(w.onsetTs),
      t(w.detectedTs),
      `${num(w.onsetLatencyMs / 1000)} s`,
      t(w.peakTs),
      t(w.endTs),
      num(w.baseline),
      num(w.peak),
      `${num(w.liftPct, 1)}%`,
      money(w.gmv),
      num(w.orders),
      w.boostTiming.buildUpSpend === null ? 'n/a' : money(w.boostTiming.buildUpSpend),
      w.boostTiming.afterPeakSpend === null ? 'n/a' : money(w.boostTiming.afterPeakSpend),
      w.boostTiming.buildUpShare === null ? 'n/a' : pct(w.boostTiming.buildUpShare),
    ]),
    new Set([3, 6, 7, 8, 9, 10, 11, 12, 13]),
  )}${[...new Set(r.windows.map((w) => w.boostTiming.note).filter((n) => n !== null))].map((n) => `<p class="note">Boost timing: ${esc(n)}</p>`).join('')}`;
}

function plansTable(r: RoomReport, t: Fmt): string {
  const note = r.plans.note ? `<p class="note">${esc(r.plans.note)}</p>` : '';
  if (!r.plans.moments.length) return `<h2>Plan vs reality 计划对比</h2>${note}`;
  return `<h2>Plan vs reality 计划对比</h2>${table(
    ['Planned at 计划时间', 'Product 商品', 'Lead 预热', 'Outcome 结果', 'Onset before 提前起量', 'Lift 提升', 'Peak 峰值', 'GMV 成交额', 'Orders 订单', 'Budget 预算', 'Spend build-up 起量期投放'],
    r.plans.moments.map((p) => [
      t(p.at),
      p.name ? `${p.name} (${p.sku})` : p.sku,
      `${num(p.leadMin)} min`,
      OUTCOME_LABEL[p.outcome],
      p.onsetBeforeAtMin === null ? '' : `${num(p.onsetBeforeAtMin, 1)} min`,
      p.liftPct === null ? '' : `${num(p.liftPct, 1)}%`,
      num(p.peak),
      money(p.gmv),
      num(p.orders),
      money(p.budget),
      p.boostTiming?.buildUpSpend == null ? 'n/a' : money(p.boostTiming.buildUpSpend),
    ]),
    new Set([4, 5, 6, 7, 8, 9, 10]),
    new Set([1]),
  )}${note}`;
}

const OUTCOME_ZH = { followed: '已跟进', 'not-followed': '未跟进', pending: '待定' } as const;

function suggestionsTable(r: RoomReport, full: Fmt): string {
  const t = clock(full);
  const c = r.suggestionCounts;
  return `<h2>Suggestions 建议</h2><p class="note">${c.total} total 共 · ${c.acknowledged} acknowledged 已确认 · ${c.suppressed} suppressed 已抑制 · ${c.notAcknowledged} not acknowledged 未确认</p>${table(
    ['Time 时间', 'For 对象', 'Kind 类型', 'Reason 原因', 'Confidence 置信度', 'What was done 处理'],
    r.suggestions.map((s) => [
      t(s.createdAt),
      s.audience,
      s.kind,
      s.reason,
      pct(s.confidence, 0),
      (s.status === 'acknowledged'
        ? `acknowledged by ${s.ackBy} (${s.ackRole}) at ${t(s.ackAt)}`
        : s.status === 'suppressed'
          ? `suppressed: ${s.suppressed}`
          : 'not acknowledged') + (s.outcome ? ` · spend ${s.outcome.verdict} 投放${OUTCOME_ZH[s.outcome.verdict]} (${money(s.outcome.spendAfter)} after)` : ''),
    ]),
    new Set([4]),
    new Set([3, 5]),
  )}`;
}

function decompositionTable(r: RoomReport): string {
  const d = r.gmvDecomposition;
  if (!d) return '<h2>GMV decomposition 成交拆解</h2><p class="note">No metrics yet.</p>';
  return `<h2>GMV decomposition 成交拆解</h2><p class="note">${esc(d.formula)}</p>${table(
    ['Source 来源', 'Exposure 曝光', 'Entries 进房', 'Click-in rate 进房率', 'Watch-min / entry 人均观看分钟', 'GMV / watch-min 每分钟成交', 'GMV 成交', 'Share of entries 进房占比'],
    [
      ...d.sources.map((s) => [
        s.source,
        num(s.exposure),
        num(s.entries),
        pct(s.clickInRate, 2),
        num(s.watchMinutesPerEntry, 2),
        money(s.gmvPerWatchMinute),
        money(s.gmvAttributed),
        pct(s.entryShare),
      ]),
      ...(d.gmvUnattributed === null ? [] : [['unattributed 未归因', '', '', '', '', '', money(d.gmvUnattributed), '']]),
    ],
    new Set([1, 2, 3, 4, 5, 6, 7]),
  )}<p class="note">${d.perRoomFactors.length ? '* room-level factors: ' + esc(d.perRoomFactors.join(', ')) + '. ' : ''}${esc(d.note)}</p>`;
}

const W = 960;
const H = 300;
const M = { l: 52, r: 16, t: 22, b: 46 };

/** Concurrency line, windows shaded by state, suggestion markers along the bottom, planned moments. */
function chart(r: RoomReport, t: Fmt): string {
  const pts = r.timeline.points;
  if (!r.span || (!pts.length && !r.windows.length)) return '<p class="note">No series retained for this room. 无数据。</p>';
  const hour = 3_600_000;
  const plans = r.plans.moments.filter((p) => p.at >= r.span!.fromTs - hour && p.leadStartTs <= r.span!.toTs + hour);
  const x0 = Math.min(r.span.fromTs, ...plans.map((p) => p.leadStartTs));
  const x1 = Math.max(r.span.toTs, ...plans.map((p) => p.at), x0 + 1);
  const yMax = niceMax(Math.max(1, ...pts.map((p) => p.concurrency), ...r.windows.map((w) => w.peak)));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const x = (ts: number) => M.l + ((ts - x0) / (x1 - x0)) * pw;
  const y = (v: number) => M.t + ph - (v / yMax) * ph;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [];

  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.l - 6}" y="${f(y(v) + 4)}" text-anchor="end" fill="#6b7280">${esc(Math.round(v))}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const ts = x0 + ((x1 - x0) * i) / 5;
    const anchor = i === 0 ? 'start' : i === 5 ? 'end' : 'middle';
    parts.push(`<text x="${f(x(ts))}" y="${H - 6}" text-anchor="${anchor}" fill="#6b7280">${esc(t(ts).slice(11, 19))}</text>`);
  }
  for (const p of plans) {
    parts.push(
      `<rect x="${f(x(p.leadStartTs))}" y="${M.t}" width="${f(Math.max(1, x(p.at) - x(p.leadStartTs)))}" height="6" fill="#111827" opacity=".25"><title>${esc(`lead window ${p.name ?? p.sku}`)}</title></rect>`,
      `<line x1="${f(x(p.at))}" x2="${f(x(p.at))}" y1="${M.t}" y2="${M.t + ph}" stroke="#111827" stroke-dasharray="4 3"><title>${esc(`planned ${p.name ?? p.sku} at ${t(p.at)}: ${p.outcome}`)}</title></line>`,
      `<text x="${f(x(p.at) + 3)}" y="${M.t - 6}" fill="#111827">${esc(truncate(p.name ?? p.sku, 24))}</text>`,
    );
  }
  for (const w of r.windows) {
    const end = w.endTs ?? r.span.toTs;
    parts.push(
      `<rect x="${f(x(w.onsetTs))}" y="${M.t}" width="${f(Math.max(1, x(end) - x(w.onsetTs)))}" height="${ph}" fill="${STATE_COLOUR[w.state]}" opacity=".18"><title>${esc(`window ${w.state}: +${w.liftPct.toFixed(1)}% to ${w.peak}`)}</title></rect>`,
    );
    if (w.peakTs !== null) parts.push(`<circle cx="${f(x(w.peakTs))}" cy="${f(y(w.peak))}" r="4" fill="${STATE_COLOUR[w.state]}"/>`);
  }
  if (pts.length) {
    parts.push(`<polyline fill="none" stroke="#111827" stroke-width="1.5" points="${pts.map((p) => `${f(x(p.ts))},${f(y(p.concurrency))}`).join(' ')}"/>`);
  }
  for (const s of r.suggestions) {
    if (s.createdAt < x0 || s.createdAt > x1) continue;
    const cx = x(s.createdAt);
    const cy = M.t + ph + 8 + (s.audience === 'buyer' ? 0 : s.audience === 'host' ? 7 : 14);
    const op = s.status === 'suppressed' ? ' fill-opacity=".35"' : '';
    parts.push(
      `<path d="M${f(cx)} ${f(cy - 4)}l4 7h-8z" fill="${AUDIENCE_COLOUR[s.audience]}"${op}><title>${esc(`${t(s.createdAt)} ${s.kind} → ${s.audience}: ${s.reason} (${s.status})`)}</title></path>`,
    );
  }
  parts.push(`<text x="${M.l}" y="${M.t - 6}" fill="#6b7280">viewers 在线</text>`);
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`Concurrency of ${r.room}`)}">${parts.join('')}</svg>`;
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((k) => k * p).find((c) => c >= v) ?? v;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
