/**
 * Every visible string of the client, in English and Simplified Chinese, plus the number, money and
 * time formatters. Components get one `I18n` object through a property, so a language switch is just
 * a new object and a re-render.
 */
import type { Audience, Suggestion, SuggestionKind, WindowState } from '../core/protocol.ts';
import type { TrafficSource } from '../core/events.ts';
import type { en } from './i18n-en.ts';

export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];


export type MessageKey = keyof typeof en;
type Table = Record<MessageKey, string>;
const TABLES: Partial<Record<Lang, Table>> = {};

/**
 * Fetches a language's table (once); createI18n needs it. Each table is a chunk of its own, so a
 * reader downloads only the language on screen (and the other one only if they switch).
 */
export async function loadLang(lang: Lang): Promise<void> {
  TABLES[lang] ??= lang === 'zh-CN' ? (await import('./i18n-zh.ts')).zh : (await import('./i18n-en.ts')).en;
}

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

function lookup(table: Table, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key as MessageKey] : undefined;
}

/** Builds the translator and formatters for one language and currency (ISO 4217, e.g. CNY). */
export function createI18n(lang: Lang, currency = 'CNY'): I18n {
  const table = TABLES[lang];
  if (!table) throw new Error(`createI18n: the ${lang} table is not loaded yet (await loadLang first)`);
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
