/**
 * Every visible string of the client, in English and Simplified Chinese, plus the number, money and
 * time formatters. Components get one `I18n` object through a property, so a language switch is just
 * a new object and a re-render.
 */
import type { Audience, Suggestion, SuggestionKind, WindowState } from '../core/protocol.ts';
import type { TrafficSource } from '../core/events.ts';

export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

const en = {
  'app.title': 'Crest',
  'lang.label': 'Language: English / 中文',
  'conn.connecting': 'Connecting…',
  'conn.connected': 'Live',
  'conn.reconnecting': 'Reconnecting…',
  'conn.offline': 'Offline',
  'conn.error': 'Error: {reason}',
  'err.unauthorized': 'not authorised — check the token',
  'err.forbidden': 'this token may not see this room',
  'err.no-token': 'no token — open this page with ?token=…',
  'err.not-found': 'not found',
  'err.timeout': 'no answer from the server',
  'err.token-missing': 'no token — open this page with ?token=…',
  'err.token-invalid': 'the token is not valid',
  'err.token-expired': 'the token has expired',
  'err.unavailable': 'the server cannot load this room right now; retrying',
  'err.offline': 'not connected',
  'sup.cooldown': 'cooldown',
  'sup.quiet': 'quiet period',
  'sup.duplicate': 'duplicate',
  'notFound.title': 'Page not found',
  'notFound.back': 'Go to the room list',

  'rooms.title': 'Rooms',
  'rooms.empty': 'No rooms to show yet.',
  'rooms.col.room': 'Room',
  'rooms.col.viewers': 'Viewers',
  'rooms.col.highlight': 'Highlight',
  'rooms.col.gmv': 'GMV',
  'rooms.col.last': 'Last suggestion',
  'rooms.col.open': 'Open',
  'rooms.live': 'Live',
  'rooms.notLive': 'Off air',
  'rooms.noWindow': 'calm',
  'rooms.none': '—',
  'rooms.ago': '{n} min ago',
  'rooms.justNow': 'just now',
  'nav.operator': 'Operator',
  'nav.host': 'Host cue',
  'nav.hostObs': 'OBS',
  'nav.buyer': 'Buyer',
  'nav.rooms': 'All rooms',

  'kpi.concurrency': 'Viewers now',
  'kpi.peak': 'peak {n}',
  'kpi.entries': 'Entries / min by source',
  'kpi.avgWatch': 'Avg watch time',
  'kpi.gmv': 'GMV',
  'kpi.orders': 'Orders',
  'kpi.conversion': 'Conversion',
  'kpi.conversionSub': '{paying} / {unique} paid',
  'kpi.gmvPerKMin': 'GMV / 1k watch-min',
  'kpi.waiting': 'Waiting for the first tick…',
  'src.follow': 'Follow',
  'src.public': 'Public',
  'src.paid': 'Paid',
  'src.other': 'Other',

  'chart.title': 'Concurrency',
  'chart.time': 'Time',
  'chart.empty': 'No data yet',
  'legend.rising': 'rising',
  'legend.peak': 'peak',
  'legend.ended': 'ended',

  'windows.title': 'Highlight windows',
  'windows.empty': 'No highlight windows yet.',
  'windows.col.state': 'State',
  'windows.col.onset': 'Onset',
  'windows.col.peak': 'Peak',
  'windows.col.lift': 'Lift',
  'windows.col.confidence': 'Confidence',
  'windows.col.gmv': 'GMV in window',
  'windows.latency': 'detected +{s} s',
  'windows.orders': '{n} orders',
  'state.rising': 'Rising',
  'state.peak': 'Peak',
  'state.ended': 'Ended',

  'log.title': 'Suggestions',
  'log.empty': 'No suggestions yet.',
  'log.suppressed': 'held back: {reason}',
  'log.ack': 'Acknowledge',
  'log.acking': 'Sending…',
  'log.ackedBy': 'Acknowledged by {by} at {at}',
  'log.ackFailed': 'Could not acknowledge: {reason}',
  'log.confidence': '{pct} confident',
  'aud.operator': 'Operator',
  'aud.host': 'Host',
  'aud.buyer': 'Buyer',

  'kind.boost.now': 'Boost now',
  'kind.boost.stop': 'Stop boost',
  'kind.cue.tease': 'Tease',
  'kind.cue.launch': 'Launch',
  'kind.cue.hold': 'Hold',
  'kind.cue.countdown': 'Countdown',
  'kind.plan.at-risk': 'Plan at risk',

  'cue.tease': 'Viewers rising — tease the hot item',
  'cue.launch': 'Launch now',
  'cue.hold': 'Hold them — release the giveaway',
  'cue.countdown': 'Next planned moment in',
  'cue.countdownItem': 'Next: {item}',
  'cue.idle': 'Keep going',
  'cue.viewers': '{n} watching',

  // Reasons: alternatives split by '|', tried in order; the first whose {params} the suggestion carries
  // wins. English has no parameter-free alternative, so it falls back to the server's own `reason`.
  'reason.rising':
    'Viewers up {liftPct}% over baseline {baseline} for {forSec} s|Viewers up {liftPct}% (now {concurrency})|Viewers up {liftPct}% over baseline',
  'reason.near-peak':
    'Peak expected in ~{peakInSec} s at about {forecastPeak} viewers|Viewers at their peak ({peak}, now {concurrency})',
  'reason.peak-passed': 'Peak passed at {peak} viewers (+{liftPct}%)',
  'reason.falling-after-peak': 'Viewers falling from {peak} (now {concurrency})',
  'reason.conversion-collapsing': 'Paid orders fell to {ordersPerMin}/min from {bestOrdersPerMin}/min',
  'reason.planned-moment': 'Planned moment for {product} coming up',
  'reason.plan-flat': 'Planned moment for {product} is near but viewers are flat',

  'plans.title': 'Planned moments',
  'plans.sku': 'SKU',
  'plans.name': 'Product',
  'plans.welfare': 'Giveaway',
  'plans.leadMin': '{n} min lead',
  'plans.budget': 'Ad budget',
  'plans.edit': 'Edit',
  'plans.delete': 'Delete',
  'plans.import': 'Import',

  'buyer.title': 'Boost alerts',
  'buyer.empty': 'No alerts yet — we will tell you when to boost.',
  'buyer.confidence': 'Confidence',
  'buyer.forecast': 'Forecast peak',
  'buyer.duration': 'Suggested boost',
  'buyer.durationMin': '~{n} min',
  'buyer.expired': 'Expired',
  'buyer.expiresIn': 'valid for {n} min',
  'peak.inMin': 'peak expected in ~{n} min',
  'peak.underMin': 'peak expected within a minute',
  'peak.passed': 'forecast peak time reached',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  'app.title': 'Crest',
  'lang.label': '语言：English / 中文',
  'conn.connecting': '连接中…',
  'conn.connected': '已连接',
  'conn.reconnecting': '重新连接中…',
  'conn.offline': '网络已断开',
  'conn.error': '错误：{reason}',
  'err.unauthorized': '未授权，请检查令牌',
  'err.forbidden': '该令牌无权查看此直播间',
  'err.no-token': '缺少令牌，请用 ?token=… 打开本页',
  'err.not-found': '未找到',
  'err.timeout': '服务器无响应',
  'err.token-missing': '缺少令牌，请用 ?token=… 打开本页',
  'err.token-invalid': '令牌无效',
  'err.token-expired': '令牌已过期',
  'err.unavailable': '服务器暂时无法加载该直播间，正在重试',
  'err.offline': '未连接',
  'sup.cooldown': '冷却期内',
  'sup.quiet': '静默时段',
  'sup.duplicate': '重复',
  'notFound.title': '页面不存在',
  'notFound.back': '返回直播间列表',

  'rooms.title': '直播间',
  'rooms.empty': '暂无直播间。',
  'rooms.col.room': '直播间',
  'rooms.col.viewers': '在线人数',
  'rooms.col.highlight': '高光',
  'rooms.col.gmv': '成交额',
  'rooms.col.last': '最新建议',
  'rooms.col.open': '打开',
  'rooms.live': '直播中',
  'rooms.notLive': '未开播',
  'rooms.noWindow': '平稳',
  'rooms.none': '—',
  'rooms.ago': '{n}分钟前',
  'rooms.justNow': '刚刚',
  'nav.operator': '运营面板',
  'nav.host': '主播提示',
  'nav.hostObs': 'OBS',
  'nav.buyer': '投流提醒',
  'nav.rooms': '全部直播间',

  'kpi.concurrency': '当前在线',
  'kpi.peak': '峰值 {n}',
  'kpi.entries': '每分钟进场（按来源）',
  'kpi.avgWatch': '平均观看时长',
  'kpi.gmv': '成交额',
  'kpi.orders': '订单数',
  'kpi.conversion': '转化率',
  'kpi.conversionSub': '{paying} / {unique} 人下单',
  'kpi.gmvPerKMin': '千分钟观看成交额',
  'kpi.waiting': '等待首个数据…',
  'src.follow': '关注',
  'src.public': '自然流量',
  'src.paid': '付费投流',
  'src.other': '其他',

  'chart.title': '在线人数',
  'chart.time': '时间',
  'chart.empty': '暂无数据',
  'legend.rising': '上升',
  'legend.peak': '峰值',
  'legend.ended': '已结束',

  'windows.title': '高光时刻',
  'windows.empty': '暂无高光时刻。',
  'windows.col.state': '状态',
  'windows.col.onset': '起点',
  'windows.col.peak': '峰值',
  'windows.col.lift': '涨幅',
  'windows.col.confidence': '置信度',
  'windows.col.gmv': '窗口内成交额',
  'windows.latency': '识别延迟 {s} 秒',
  'windows.orders': '{n} 单',
  'state.rising': '上升中',
  'state.peak': '峰值',
  'state.ended': '已结束',

  'log.title': '建议记录',
  'log.empty': '暂无建议。',
  'log.suppressed': '已暂缓：{reason}',
  'log.ack': '确认',
  'log.acking': '提交中…',
  'log.ackedBy': '{by} 于 {at} 确认',
  'log.ackFailed': '确认失败：{reason}',
  'log.confidence': '置信度 {pct}',
  'aud.operator': '运营',
  'aud.host': '主播',
  'aud.buyer': '投手',

  'kind.boost.now': '立即投流',
  'kind.boost.stop': '停止投流',
  'kind.cue.tease': '预热',
  'kind.cue.launch': '上链接',
  'kind.cue.hold': '留人',
  'kind.cue.countdown': '倒计时',
  'kind.plan.at-risk': '计划有风险',

  'cue.tease': '人气在涨——预告爆品',
  'cue.launch': '马上上链接',
  'cue.hold': '稳住人气——放福袋',
  'cue.countdown': '距下一个计划高光还有',
  'cue.countdownItem': '下一个：{item}',
  'cue.idle': '保持节奏',
  'cue.viewers': '{n} 人在线',

  'reason.rising':
    '在线人数比基线 {baseline} 高 {liftPct}%，已持续 {forSec} 秒|在线人数上涨 {liftPct}%（当前 {concurrency}）|在线人数比基线高 {liftPct}%|在线人数正在上涨',
  'reason.near-peak':
    '预计约{peakInSec}秒后到达峰值，约 {forecastPeak} 人|人气到达峰值（峰值 {peak}，当前 {concurrency}）|即将到达峰值',
  'reason.peak-passed': '峰值已过（峰值 {peak} 人，+{liftPct}%）|峰值已过，观众正在离开',
  'reason.falling-after-peak': '人数从峰值 {peak} 回落（当前 {concurrency}）|峰值过后人数回落',
  'reason.conversion-collapsing': '成交从每分钟 {bestOrdersPerMin} 单降到 {ordersPerMin} 单|转化大幅下滑',
  'reason.planned-moment': '计划高光时刻（{product}）即将到来|计划高光时刻即将到来',
  'reason.plan-flat': '计划高光时刻（{product}）临近，但人气持平|计划时刻临近，但人气持平',

  'plans.title': '计划高光',
  'plans.sku': '商品编号',
  'plans.name': '商品名',
  'plans.welfare': '福利',
  'plans.leadMin': '提前{n}分钟',
  'plans.budget': '投流预算',
  'plans.edit': '编辑',
  'plans.delete': '删除',
  'plans.import': '导入',

  'buyer.title': '投流提醒',
  'buyer.empty': '暂无提醒——该投流时会第一时间通知你。',
  'buyer.confidence': '置信度',
  'buyer.forecast': '预计峰值',
  'buyer.duration': '建议投流时长',
  'buyer.durationMin': '约{n}分钟',
  'buyer.expired': '已过期',
  'buyer.expiresIn': '{n}分钟内有效',
  'peak.inMin': '预计约{n}分钟后到达峰值',
  'peak.underMin': '预计1分钟内到达峰值',
  'peak.passed': '已到预计峰值时间',
};

const TABLES: Record<Lang, Record<MessageKey, string>> = { en, 'zh-CN': zh };
const LANG_KEY = 'crest.lang';

type Params = Record<string, string | number>;

export interface I18n {
  readonly lang: Lang;
  t(key: MessageKey, params?: Params): string;
  num(n: number, maxFraction?: number): string;
  /** Large counts in short form (12.3K / 1.2万). */
  compact(n: number): string;
  /** A 0..1 ratio as a percentage. */
  pct(ratio: number, maxFraction?: number): string;
  /** Money from minor units (fen, cents); `compact` for tiles: ¥1.2万 / ¥12.3K, whole units from ¥100. */
  money(minor: number, compact?: boolean): string;
  /** Wall-clock time of day of an epoch-ms instant (HH:MM:SS). */
  time(ts: number, seconds?: boolean): string;
  /** A length of time in seconds, e.g. "3m 20s" / "3分20秒". */
  duration(sec: number): string;
  /** "peak expected in ~4 min", from the milliseconds left until the forecast peak. */
  peakIn(msLeft: number): string;
  kind(kind: SuggestionKind): string;
  audience(a: Audience): string;
  windowState(s: WindowState): string;
  source(s: TrafficSource): string;
  /** Reason text from reasonCode + params; the English `reason` when a parameter is missing. */
  reason(s: Suggestion): string;
  /** Error codes from the server or the transport, translated when known. */
  error(code: string): string;
  /** Why the policy held a suggestion back (free text from the server), translated when known. */
  suppressed(reason: string): string;
}

function fill(template: string, params: Params | undefined): string | null {
  let missing = false;
  const out = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? null : out;
}

function lookup(table: Record<MessageKey, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key as MessageKey] : undefined;
}

/** Builds the translator and formatters for one language and currency (ISO 4217, e.g. CNY). */
export function createI18n(lang: Lang, currency = 'CNY'): I18n {
  const table = TABLES[lang];
  const nf = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  const compactNf = new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 });
  // narrowSymbol: "¥" rather than "CN¥" in English; the rooms' currency is never ambiguous on screen.
  const moneyNf = new Intl.NumberFormat(lang, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
  const moneyCompactNf = new Intl.NumberFormat(lang, {
    style: 'currency',
    currency,
    currencyDisplay: 'narrowSymbol',
    notation: 'compact',
    maximumFractionDigits: 1,
  });
  const moneyWholeNf = new Intl.NumberFormat(lang, {
    style: 'currency',
    currency,
    currencyDisplay: 'narrowSymbol',
    maximumFractionDigits: 0,
  });
  // Minor units per major unit from the currency itself (CNY and USD: 2, JPY: 0).
  const minorDigits = moneyNf.resolvedOptions().maximumFractionDigits ?? 2;
  const timeFmt = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const timeShortFmt = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

  const t = (key: MessageKey, params?: Params): string => fill(table[key], params) ?? table[key];
  const num = (n: number, maxFraction = 0): string =>
    maxFraction === 0 ? nf.format(n) : new Intl.NumberFormat(lang, { maximumFractionDigits: maxFraction }).format(n);
  const pct = (ratio: number, maxFraction = 0): string =>
    new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: maxFraction }).format(ratio);

  return {
    lang,
    t,
    num,
    compact: (n) => (Math.abs(n) < 10_000 ? nf.format(n) : compactNf.format(n)),
    pct,
    money: (minor, compact = false) => {
      const major = minor / 10 ** minorDigits;
      if (!compact) return moneyNf.format(major);
      if (Math.abs(major) >= 10_000) return moneyCompactNf.format(major);
      return Math.abs(major) >= 100 ? moneyWholeNf.format(major) : moneyNf.format(major);
    },
    time: (ts, seconds = true) => (seconds ? timeFmt : timeShortFmt).format(ts),
    duration: (sec) => {
      const s = Math.max(0, Math.round(sec));
      const m = Math.floor(s / 60);
      const r = s % 60;
      if (lang === 'zh-CN') return m ? `${m}分${r}秒` : `${r}秒`;
      return m ? `${m}m ${r}s` : `${r}s`;
    },
    peakIn: (msLeft) => {
      if (msLeft <= 0) return t('peak.passed');
      if (msLeft < 60_000) return t('peak.underMin');
      return t('peak.inMin', { n: Math.round(msLeft / 60_000) });
    },
    kind: (kind) => table[`kind.${kind}` as const],
    audience: (a) => table[`aud.${a}` as const],
    windowState: (s) => table[`state.${s}` as const],
    source: (s) => table[`src.${s}` as const],
    reason: (s) => {
      const templates: string | undefined = table[`reason.${s.reasonCode}` as const];
      if (templates === undefined) return s.reason || table[`kind.${s.kind}` as const];
      const params: Params = {};
      // Numbers in the reader's format (1,234 / 42.3); the server sends raw numbers.
      for (const [k, v] of Object.entries(s.params)) params[k] = typeof v === 'number' ? num(v, 1) : v;
      for (const t of templates.split('|')) {
        const text = fill(t, params);
        if (text !== null) return text;
      }
      return s.reason || table[`kind.${s.kind}` as const];
    },
    error: (code) => lookup(table, `err.${code}`) ?? code,
    suppressed: (reason) => lookup(table, `sup.${reason}`) ?? reason,
  };
}

/** The saved choice, else the browser's language (any zh-* → zh-CN), else English. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && (LANGS as readonly string[]).includes(saved)) return saved as Lang;
  } catch {
    // Storage can be disabled (private mode, OBS sandbox): fall through to the browser's language.
  }
  const nav = typeof navigator === 'undefined' ? 'en' : navigator.language;
  return /^zh\b/i.test(nav) ? 'zh-CN' : 'en';
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Not persisting is acceptable: the toggle still works for this page.
  }
}

/** `?currency=USD` overrides the default CNY (these rooms sell in RMB, whatever the UI language). */
export function currencyFromUrl(search: string): string {
  const c = new URLSearchParams(search).get('currency');
  return c && /^[A-Za-z]{3}$/.test(c) ? c.toUpperCase() : 'CNY';
}
