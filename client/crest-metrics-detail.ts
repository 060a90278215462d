/**
 * The room's stream-to-date detail, opened on demand from the operator panel (its own chunk, so the
 * panel's first load does not pay for it): GMV per source decomposed as exposure × click-in rate ×
 * watch-minutes per entry × GMV per watch-minute, so an operator sees which factor moved; the last 1 and
 * 5 minutes; ad spend and GMV inside vs outside highlight windows; top products. Polls
 * `GET /api/v1/rooms/:room/state` while it is on screen.
 */
import { LitElement, css, html } from 'lit';
import type { TrafficSource } from '../core/events.ts';
import type { RoomMetrics } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { PollController } from './poll-controller.ts';
import { tableCardStyles } from './theme.ts';
// Already loaded by the app shell (a no-op at run time). Reaching it from here too keeps Lit, the theme and
// the toggle in one shared chunk: without it esbuild splits the toggle off and every first load pays a file.
import './crest-lang-toggle.ts';

/** The detail moves with the room's minute-scale figures; 5 s keeps it fresh without loading the server. */
const POLL_MS = 5_000;

/**
 * This card's texts ride in its own chunk rather than in the shared language tables (i18n-en/zh.ts), which
 * every page downloads on first load: they are fetched only by the operator who opens the card.
 */
const en = {
  title: 'Details: stream to date',
  none: 'No figures yet.',
  source: 'Source',
  exposure: 'Exposure',
  clickIn: 'Click-in',
  clickIn5: 'Click-in 5 min',
  wmPerEntry: 'Watch-min / entry',
  gmvPerWm: 'GMV / watch-min',
  gmv: 'GMV',
  unattributed: 'GMV with no source',
  gmv1m5m: 'GMV, last 1 / 5 min',
  conc1m5m: 'Mean viewers, last 1 / 5 min',
  spendIn: 'Ad spend in windows → GMV per spend',
  spendOut: 'Ad spend outside → GMV per spend',
  top: 'Top products',
};
const TEXT: Record<I18n['lang'], typeof en> = {
  en,
  'zh-CN': {
    title: '详细指标：本场累计',
    none: '暂无数据。',
    source: '来源',
    exposure: '曝光',
    clickIn: '进房率',
    clickIn5: '近5分钟进房率',
    wmPerEntry: '人均观看分钟',
    gmvPerWm: '每观看分钟 GMV',
    gmv: 'GMV',
    unattributed: '无来源 GMV',
    gmv1m5m: 'GMV，近1 / 5分钟',
    conc1m5m: '平均在线，近1 / 5分钟',
    spendIn: '高光窗口内投放 → 每元 GMV',
    spendOut: '窗口外投放 → 每元 GMV',
    top: '热销商品',
  },
};

/** a ÷ b, null when b is 0 (a factor with no denominator is unknown, not zero). */
const per = (a: number, b: number): number | null => (b > 0 ? a / b : null);

export class CrestMetricsDetail extends LitElement {
  static override properties = {
    roomId: { attribute: 'room-id' },
    token: {},
    i18n: { attribute: false },
  };
  declare roomId: string;
  declare token: string | null;
  declare i18n: I18n;

  private poller: PollController<RoomMetrics | null> | null = null;

  constructor() {
    super();
    this.roomId = '';
    this.token = null;
  }

  static override styles = [
    tableCardStyles,
    css`
      table {
        margin-top: 8px;
      }
      th {
        padding: 4px 0 6px 8px;
        text-align: right;
      }
      td {
        padding: 6px 0 6px 8px;
        text-align: right;
      }
      th:first-child,
      td:first-child {
        text-align: left;
        padding-left: 0;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
        gap: 8px 16px;
        margin: 12px 0 0;
        font-size: 13px;
      }
      dt {
        color: var(--c-muted);
        font-size: 12px;
      }
      dd {
        margin: 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.poller ??= new PollController(
      this,
      this.token,
      `/api/v1/rooms/${encodeURIComponent(this.roomId)}/state`,
      (b) => {
        const m = (b as { metrics?: RoomMetrics | null }).metrics;
        return m === undefined ? undefined : m;
      },
      null,
      POLL_MS,
    );
  }

  override render() {
    const { i18n } = this;
    const tx = TEXT[i18n.lang];
    const m = this.poller?.data;
    const d = m?.detail;
    if (!m || !d) {
      const failed = this.poller?.state === 'error';
      return html`<h2>${tx.title}</h2>
        <p class="muted" data-testid="detail-empty">
          ${failed ? i18n.error(this.poller!.error ?? 'error') : this.poller?.fetchedAt ? tx.none : i18n.t('conn.connecting')}
        </p>`;
    }
    const opt = (v: number | null, f: (n: number) => string) => (v === null ? '—' : f(v));
    const money = (v: number | null) => opt(v, (n) => i18n.money(n));
    // The core's source order: the server writes every PerSource from TRAFFIC_SOURCES (not imported: zod).
    const sources = Object.keys(m.entriesTotal) as TrafficSource[];
    const { m1, m5 } = d.rolling;
    const figure = (label: string, value: string, id: string) =>
      html`<div><dt>${label}</dt><dd class="num" data-testid=${id}>${value}</dd></div>`;
    const spendRatio = (v: number | null) => opt(v, (n) => `${i18n.num(n, 2)}×`);
    return html`<h2>${tx.title}</h2>
      <div class="scroll">
        <table data-testid="detail-sources">
          <thead>
            <tr>
              <th>${tx.source}</th>
              <th>${tx.exposure}</th>
              <th>${tx.clickIn}</th>
              <th>${tx.clickIn5}</th>
              <th>${tx.wmPerEntry}</th>
              <th>${tx.gmvPerWm}</th>
              <th>${tx.gmv}</th>
            </tr>
          </thead>
          <tbody>
            ${sources.map((s) => {
              const wm = d.watchMinutesBySource[s];
              const wmPerEntry = per(wm, m.entriesTotal[s]);
              const gmvPerWm = per(d.gmvBySource[s], wm);
              return html`<tr data-testid="detail-source" data-source=${s}>
                <td>${i18n.source(s)}</td>
                <td class="num" data-v=${m.exposureTotal[s]}>${i18n.num(m.exposureTotal[s])}</td>
                <td class="num" data-v=${String(d.clickInRate[s])}>${opt(d.clickInRate[s], (n) => i18n.pct(n, 1))}</td>
                <td class="num" data-v=${String(m5.clickInRate[s])}>${opt(m5.clickInRate[s], (n) => i18n.pct(n, 1))}</td>
                <td class="num" data-v=${String(wmPerEntry)}>${opt(wmPerEntry, (n) => i18n.num(n, 1))}</td>
                <td class="num" data-v=${String(gmvPerWm)}>${money(gmvPerWm)}</td>
                <td class="num" data-v=${d.gmvBySource[s]}>${i18n.money(d.gmvBySource[s])}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <dl>
        ${figure(tx.unattributed, i18n.money(d.gmvUnattributed), 'detail-unattributed')}
        ${figure(tx.gmv1m5m, `${i18n.money(m1.gmv)} / ${i18n.money(m5.gmv)}`, 'detail-rolling-gmv')}
        ${figure(tx.conc1m5m, `${i18n.num(m1.concurrencyMean)} / ${i18n.num(m5.concurrencyMean)}`, 'detail-rolling-conc')}
        ${figure(tx.spendIn, `${i18n.money(d.adSpendInWindows)} → ${spendRatio(d.gmvPerSpendInWindows)}`, 'detail-spend-in')}
        ${figure(tx.spendOut, `${i18n.money(d.adSpendOutsideWindows)} → ${spendRatio(d.gmvPerSpendOutsideWindows)}`, 'detail-spend-out')}
        ${figure(tx.top, d.topProducts.slice(0, 3).map((p) => `${p.name ?? p.sku} ${i18n.money(p.gmv)}`).join(' · ') || '—', 'detail-top')}
      </dl>`;
  }
}
customElements.define('crest-metrics-detail', CrestMetricsDetail);

declare global {
  interface HTMLElementTagNameMap {
    'crest-metrics-detail': CrestMetricsDetail;
  }
}
