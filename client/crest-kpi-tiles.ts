/** The operator's headline figures (DESIGN §5) as a row of tiles that wraps on narrow screens. */
import { LitElement, css, html } from 'lit';
import type { TrafficSource } from '../core/events.ts';
import type { RoomMetrics } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { shared, tokens } from './theme.ts';

// Mirrors TRAFFIC_SOURCES in core/events.ts, which the client cannot import at runtime (it pulls in zod).
const SOURCES = ['follow', 'public', 'paid', 'other'] as const satisfies readonly TrafficSource[];

export class CrestKpiTiles extends LitElement {
  static override properties = {
    metrics: { attribute: false },
    i18n: { attribute: false },
  };
  declare metrics: RoomMetrics | null;
  declare i18n: I18n;

  constructor() {
    super();
    this.metrics = null;
  }

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(128px, 1fr));
        gap: 10px;
      }
      .tile {
        padding: 10px 12px;
        min-width: 0;
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .wide {
        grid-column: span 2;
      }
      .k {
        font-size: 12px;
        color: var(--c-muted);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .v {
        font-size: 24px;
        font-weight: 650;
        line-height: 1.2;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .big .v {
        font-size: 30px;
        color: var(--c-accent);
      }
      .s {
        font-size: 12px;
        color: var(--c-muted);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .bars {
        display: grid;
        grid-template-columns: auto 1fr auto;
        gap: 3px 8px;
        align-items: center;
        font-size: 12px;
        margin-top: 2px;
      }
      .bar {
        height: 8px;
        border-radius: 4px;
        background: var(--c-bg);
        overflow: hidden;
      }
      .bar i {
        display: block;
        height: 100%;
        border-radius: 4px;
        background: var(--c-accent);
        transition: width 0.4s ease;
      }
      .bar.paid i {
        background: #f59e0b;
      }
      .bar.follow i {
        background: #7c3aed;
      }
      .bar.other i {
        background: #9ca3af;
      }
      .waiting {
        grid-column: 1 / -1;
        padding: 18px;
        color: var(--c-muted);
      }
    `,
  ];

  override render() {
    const { i18n, metrics: m } = this;
    if (!m) return html`<div class="card waiting">${i18n.t('kpi.waiting')}</div>`;
    const maxEntries = Math.max(1, ...SOURCES.map((s) => m.entriesPerMin[s]));
    return html`
      <div class="card tile big" data-testid="kpi-concurrency" data-value=${m.concurrency}>
        <span class="k">${i18n.t('kpi.concurrency')}</span>
        <span class="v num">${i18n.num(m.concurrency)}</span>
        <span class="s num">${i18n.t('kpi.peak', { n: i18n.num(m.peakConcurrency) })}</span>
      </div>
      <div class="card tile wide" data-testid="kpi-entries">
        <span class="k">${i18n.t('kpi.entries')}</span>
        <div class="bars">
          ${SOURCES.map(
            (s) => html`<span>${i18n.source(s)}</span>
              <span class="bar ${s}"><i style="width:${(m.entriesPerMin[s] / maxEntries) * 100}%"></i></span>
              <span class="num">${i18n.num(m.entriesPerMin[s])}</span>`,
          )}
        </div>
      </div>
      ${this.tile('kpi-avg-watch', i18n.t('kpi.avgWatch'), i18n.duration(m.avgWatchSec))}
      ${this.tile('kpi-gmv', i18n.t('kpi.gmv'), i18n.money(m.gmv, true), i18n.money(m.gmv))}
      ${this.tile('kpi-orders', i18n.t('kpi.orders'), i18n.num(m.orders))}
      ${this.tile(
        'kpi-conversion',
        i18n.t('kpi.conversion'),
        i18n.pct(m.conversion, 1),
        i18n.t('kpi.conversionSub', { paying: i18n.num(m.payingViewers), unique: i18n.num(m.uniqueViewers) }),
      )}
      ${this.tile('kpi-gmv-per-k-min', i18n.t('kpi.gmvPerKMin'), i18n.money(m.gmvPerKWatchMin, true))}
    `;
  }

  private tile(testid: string, label: string, value: string, sub?: string) {
    return html`<div class="card tile" data-testid=${testid}>
      <span class="k" title=${label}>${label}</span>
      <span class="v num" title=${value}>${value}</span>
      ${sub && sub !== value ? html`<span class="s num" title=${sub}>${sub}</span>` : null}
    </div>`;
  }
}
customElements.define('crest-kpi-tiles', CrestKpiTiles);

declare global {
  interface HTMLElementTagNameMap {
    'crest-kpi-tiles': CrestKpiTiles;
  }
}
