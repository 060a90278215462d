/**
 * The concurrency curve (uPlot) with highlight windows shaded and suggestion markers. Bands and markers
 * are DOM elements over the plot area, not canvas paint, so they can be styled, hovered and found by a
 * browser test. Their positions come from the x range, which this element sets itself; uPlot only
 * tells us where the plot area sits inside the canvas.
 */
import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import type { HighlightWindow, PlannedMoment, SeriesPoint, SeriesResolution, Suggestion } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { shared, tokens } from './theme.ts';

const PLOT_HEIGHT = 240;
const MIN_SPAN_MS = 60_000;
/** Planned moments up to this far past the newest point widen the chart so their markers show ahead. */
const PLAN_AHEAD_MS = 15 * 60_000;
const RESOLUTIONS: readonly SeriesResolution[] = ['1s', '10s', '1m'];

/** Asks the panel for the series at another resolution (the chart only draws what it is given). */
export type ResolutionEvent = CustomEvent<{ resolution: SeriesResolution }>;

export class CrestConcurrencyChart extends LitElement {
  static override properties = {
    series: { attribute: false },
    windows: { attribute: false },
    suggestions: { attribute: false },
    plans: { attribute: false },
    resolution: {},
    i18n: { attribute: false },
  };
  declare plans: readonly PlannedMoment[];
  /** What `series` holds: live 1 s points, or 10 s / 1 min means (longer history). */
  declare resolution: SeriesResolution;
  declare series: readonly SeriesPoint[];
  declare windows: readonly HighlightWindow[];
  declare suggestions: readonly Suggestion[];
  declare i18n: I18n;

  private plot: uPlot | null = null;
  private resizer: ResizeObserver | null = null;

  constructor() {
    super();
    this.series = [];
    this.windows = [];
    this.suggestions = [];
    this.plans = [];
    this.resolution = '1s';
  }

  static override styles = [
    tokens,
    shared,
    unsafeCSS(uplotCss),
    css`
      :host {
        display: block;
        padding: 10px 12px 6px;
      }
      .top {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        margin-bottom: 6px;
      }
      .res {
        margin-left: auto;
        display: flex;
        gap: 4px;
      }
      .res button {
        min-height: 26px;
        padding: 2px 8px;
        font-size: 12px;
      }
      .res [aria-pressed='true'] {
        border-color: var(--c-accent);
        color: var(--c-accent);
      }
      .keys {
        display: flex;
        gap: 10px;
        font-size: 12px;
        color: var(--c-muted);
      }
      .keys span::before {
        content: '';
        display: inline-block;
        width: 10px;
        height: 10px;
        border-radius: 2px;
        margin-right: 4px;
        vertical-align: -1px;
      }
      .wrap {
        position: relative;
        min-height: ${PLOT_HEIGHT}px;
      }
      .over {
        position: absolute;
        pointer-events: none;
        overflow: hidden;
      }
      .band {
        position: absolute;
        top: 0;
        bottom: 0;
        min-width: 2px;
        border-left: 2px solid;
      }
      .band b {
        position: absolute;
        bottom: 2px;
        left: 4px;
        font-size: 11px;
        font-weight: 600;
        white-space: nowrap;
      }
      .rising,
      .keys .rising::before {
        background: rgb(217 119 6 / 0.16);
        border-color: var(--c-rising);
        color: var(--c-rising);
      }
      .peak,
      .keys .peak::before {
        background: rgb(220 38 38 / 0.14);
        border-color: var(--c-peak);
        color: var(--c-peak);
      }
      .ended,
      .keys .ended::before {
        background: repeating-linear-gradient(135deg, rgb(107 114 128 / 0.12) 0 6px, rgb(107 114 128 / 0.04) 6px 12px);
        border-color: var(--c-ended);
        color: var(--c-muted);
      }
      .rising {
        animation: breathe 1.6s ease-in-out infinite alternate;
      }
      @keyframes breathe {
        to {
          background: rgb(217 119 6 / 0.26);
        }
      }
      .mk {
        position: absolute;
        top: 0;
        bottom: 0;
        width: 11px;
        margin-left: -5px;
        pointer-events: auto;
      }
      .mk::before {
        content: '';
        position: absolute;
        left: 5px;
        top: 14px;
        bottom: 0;
        border-left: 1px dashed currentColor;
        opacity: 0.7;
      }
      .mk::after {
        content: '';
        position: absolute;
        left: 1px;
        top: 2px;
        width: 9px;
        height: 9px;
        border-radius: 50%;
        background: currentColor;
        box-shadow: 0 0 0 1.5px #fff;
      }
      .mk.operator {
        color: var(--c-aud-operator);
      }
      .mk.host {
        color: var(--c-aud-host);
      }
      .mk.buyer {
        color: var(--c-aud-buyer);
      }
      .mk.plan {
        color: var(--c-accent);
      }
      .mk.plan::after {
        border-radius: 0;
      }
      .mk.suppressed {
        color: var(--c-faint);
      }
      .mk.suppressed::after {
        background: #fff;
        border: 1.5px solid currentColor;
      }
      .no-data .plot {
        visibility: hidden;
      }
      .empty {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        color: var(--c-muted);
      }
      /* The hover readout floats over the plot's top-left corner instead of taking a row below it. */
      .u-legend {
        position: absolute;
        top: 0;
        left: 56px;
        font-size: 12px;
        text-align: left;
        margin: 0;
        background: rgb(255 255 255 / 0.9);
        border-radius: 6px;
        pointer-events: none;
        z-index: 2;
      }
      .wrap:not(:hover) .u-legend {
        visibility: hidden;
      }
      .u-legend .u-series > * {
        padding: 0 4px;
      }
      @media (prefers-reduced-motion: reduce) {
        .rising {
          animation: none;
        }
      }
    `,
  ];

  /** Visible event-time range: the kept series, at least a minute wide. */
  private range(): [number, number] {
    const s = this.series;
    if (s.length === 0) return [0, MIN_SPAN_MS];
    const last = s[s.length - 1].ts;
    let max = last;
    for (const p of this.plans) if (p.at > max && p.at <= last + PLAN_AHEAD_MS) max = p.at;
    return [Math.min(s[0].ts, last - MIN_SPAN_MS), max];
  }

  override render() {
    const { i18n } = this;
    const [x0, x1] = this.range();
    const span = x1 - x0;
    const pct = (ts: number): number => ((ts - x0) / span) * 100;
    const hasData = this.series.length > 0;
    return html`
      <div class="top">
        <h2>${i18n.t('chart.title')}</h2>
        <div class="keys">
          <span class="rising">${i18n.t('legend.rising')}</span>
          <span class="peak">${i18n.t('legend.peak')}</span>
          <span class="ended">${i18n.t('legend.ended')}</span>
        </div>
        <div class="res" role="group" aria-label=${i18n.t('chart.res')}>
          ${RESOLUTIONS.map(
            (r) =>
              html`<button
                data-testid="chart-res"
                data-res=${r}
                aria-pressed=${r === this.resolution}
                @click=${() => this.dispatchEvent(new CustomEvent('crest-resolution', { detail: { resolution: r }, bubbles: true, composed: true }))}
              >
                ${i18n.t(`chart.res.${r}`)}
              </button>`,
          )}
        </div>
      </div>
      <div class="wrap ${hasData ? '' : 'no-data'}" data-testid="chart" data-res=${this.resolution} data-points=${this.series.length}>
        <div class="plot"></div>
        <div class="over">
          ${hasData
            ? this.windows.map((w) => {
                const from = Math.max(w.onsetTs, x0);
                const to = Math.min(w.endTs ?? x1, x1);
                if (to < x0 || from > x1) return null;
                return html`<div
                  class="band ${w.state}"
                  data-testid="window-band"
                  data-state=${w.state}
                  data-window-id=${w.id}
                  style="left:${pct(from)}%;width:${pct(to) - pct(from)}%"
                  title="${i18n.windowState(w.state)} +${i18n.num(w.liftPct)}%"
                >
                  <b>${i18n.windowState(w.state)}</b>
                </div>`;
              })
            : null}
          ${hasData
            ? this.suggestions.map((sg) =>
                sg.createdAt < x0 || sg.createdAt > x1
                  ? null
                  : html`<div
                      class="mk ${sg.audience} ${sg.suppressed ? 'suppressed' : ''}"
                      data-testid="suggestion-marker"
                      data-kind=${sg.kind}
                      style="left:${pct(sg.createdAt)}%"
                      title="${i18n.time(sg.createdAt)} · ${i18n.audience(sg.audience)} · ${i18n.kind(sg.kind)} — ${i18n.reason(sg)}"
                    ></div>`,
              )
            : null}
          ${hasData
            ? this.plans.map((p) =>
                p.at < x0 || p.at > x1
                  ? null
                  : html`<div
                      class="mk plan"
                      data-testid="plan-marker"
                      data-plan-id=${p.id}
                      style="left:${pct(p.at)}%"
                      title="${i18n.time(p.at)} · ${p.name ?? p.sku}"
                    ></div>`,
              )
            : null}
        </div>
        ${hasData ? null : html`<div class="empty">${i18n.t('chart.empty')}</div>`}
      </div>
    `;
  }

  override firstUpdated(): void {
    const wrap = this.renderRoot.querySelector<HTMLElement>('.wrap')!;
    this.resizer = new ResizeObserver(() => this.plot?.setSize({ width: wrap.clientWidth, height: PLOT_HEIGHT }));
    this.resizer.observe(wrap);
  }

  override updated(changed: PropertyValues<this>): void {
    if (!this.plot || changed.has('i18n')) this.createPlot();
    else if (changed.has('series') || changed.has('plans')) this.plot.setData(this.data());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizer?.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a disconnect: firstUpdated will not run again, so observe and draw here.
    if (this.hasUpdated && !this.plot) {
      this.firstUpdated();
      this.createPlot();
    }
  }

  private data(): uPlot.AlignedData {
    return [this.series.map((p) => p.ts), this.series.map((p) => p.concurrency)];
  }

  private createPlot(): void {
    this.plot?.destroy();
    const wrap = this.renderRoot.querySelector<HTMLElement>('.wrap')!;
    const target = this.renderRoot.querySelector<HTMLElement>('.plot')!;
    const i18n = this.i18n;
    const grid = { stroke: '#eef0f3', width: 1 };
    const axis = { stroke: '#6b7280', grid, ticks: { show: false }, font: '11px system-ui, sans-serif' };
    this.plot = new uPlot(
      {
        width: Math.max(200, wrap.clientWidth),
        height: PLOT_HEIGHT,
        ms: 1,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false }, points: { size: 7 } },
        scales: {
          x: { time: true, range: () => this.range() },
          y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max || 0) * 1.15))] },
        },
        axes: [
          {
            ...axis,
            space: 70,
            values: (_u, splits) => {
              const [x0, x1] = this.range();
              return splits.map((v) => i18n.time(v, x1 - x0 < 10 * MIN_SPAN_MS));
            },
          },
          { ...axis, size: 48, values: (_u, splits) => splits.map((v) => i18n.compact(v)) },
        ],
        series: [
          { label: i18n.t('chart.time'), value: (_u, v) => (v == null ? '' : i18n.time(v)) },
          {
            label: i18n.t('chart.title'),
            stroke: '#2563eb',
            width: 2,
            fill: 'rgba(37,99,235,0.07)',
            points: { show: false },
            value: (_u, v) => (v == null ? '—' : i18n.num(v)),
          },
        ],
        hooks: { setSize: [(u) => this.syncOverlay(u)], ready: [(u) => this.syncOverlay(u)] },
      },
      this.data(),
      target,
    );
  }

  /** Lays the band/marker layer exactly over uPlot's plot area (axes excluded). */
  private syncOverlay(u: uPlot): void {
    const over = this.renderRoot.querySelector<HTMLElement>('.over');
    if (!over) return;
    const s = u.over.style;
    over.style.left = s.left;
    over.style.top = s.top;
    over.style.width = s.width;
    over.style.height = s.height;
  }
}
customElements.define('crest-concurrency-chart', CrestConcurrencyChart);

declare global {
  interface HTMLElementTagNameMap {
    'crest-concurrency-chart': CrestConcurrencyChart;
  }
}
