/**
 * The concurrency curve with highlight windows shaded and suggestion markers. The curve, its grid and axis
 * labels are painted on one canvas (a live series holds up to 3,600 points, redrawn every tick); bands,
 * markers and the hover readout are DOM elements over the plot area, so they can be styled, hovered and
 * found by a browser test. Both sides place things from the same x range and plot box (PAD), set here.
 * Painted by hand rather than by a chart library: one line, two axes and a readout are all this chart
 * draws, and uPlot was 21 of the operator page's 60 KB gzip.
 */
import { LitElement, css, html, type PropertyValues } from 'lit';
import type { HighlightWindow, PlannedMoment, SeriesPoint, SeriesResolution, Suggestion } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { shared, tokens } from './theme.ts';

const PLOT_HEIGHT = 240;
/** The plot box inside the canvas, in CSS px: the value labels sit left of it, the time labels under it. */
const PAD = { l: 48, r: 12, t: 12, b: 30 };
/** Least distance between two grid lines, in CSS px. */
const X_SPACE = 70;
const Y_SPACE = 30;
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
/** Time-axis steps: round seconds, minutes and hours of the local clock. */
const TIME_STEPS = [S, 5 * S, 10 * S, 15 * S, 30 * S, MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR];
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
    hoverAt: { state: true },
  };
  declare plans: readonly PlannedMoment[];
  /** What `series` holds: live 1 s points, or 10 s / 1 min means (longer history). */
  declare resolution: SeriesResolution;
  declare series: readonly SeriesPoint[];
  declare windows: readonly HighlightWindow[];
  declare suggestions: readonly Suggestion[];
  declare i18n: I18n;

  /** Where the pointer is over the plot, as a 0..1 share of its width (null: not over it). */
  declare hoverAt: number | null;
  private resizer: ResizeObserver | null = null;

  constructor() {
    super();
    this.series = [];
    this.windows = [];
    this.suggestions = [];
    this.plans = [];
    this.resolution = '1s';
    this.hoverAt = null;
  }

  static override styles = [
    tokens,
    shared,
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
      canvas {
        display: block;
      }
      .over {
        position: absolute;
        left: ${PAD.l}px;
        right: ${PAD.r}px;
        top: ${PAD.t}px;
        height: ${PLOT_HEIGHT - PAD.t - PAD.b}px;
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
      .readout {
        position: absolute;
        top: 0;
        left: ${PAD.l + 8}px;
        display: flex;
        gap: 12px;
        padding: 0 4px;
        font-size: 12px;
        background: rgb(255 255 255 / 0.9);
        border-radius: 6px;
        pointer-events: none;
        z-index: 2;
      }
      .readout i {
        display: inline-block;
        width: 10px;
        height: 10px;
        margin-right: 4px;
        border: 2px solid var(--c-accent);
        vertical-align: -1px;
      }
      .cursor {
        position: absolute;
        top: 0;
        bottom: 0;
        border-left: 1px dashed #374151;
      }
      .cursor b {
        position: absolute;
        left: -4px;
        width: 7px;
        height: 7px;
        margin-top: -3px;
        border-radius: 50%;
        background: var(--c-accent);
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

  /** Top of the value axis: 15% headroom over the highest point, at least 10 viewers. */
  private top(): number {
    let max = 0;
    for (const p of this.series) if (p.concurrency > max) max = p.concurrency;
    return Math.max(10, Math.ceil(max * 1.15));
  }

  /** The point under the pointer: the one nearest in time (the series is oldest first). */
  private hovered(x0: number, span: number): SeriesPoint | null {
    const s = this.series;
    if (this.hoverAt === null || s.length === 0) return null;
    const ts = x0 + this.hoverAt * span;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && ts - s[lo - 1].ts < s[lo].ts - ts ? s[lo - 1] : s[lo];
  }

  override render() {
    const { i18n } = this;
    const [x0, x1] = this.range();
    const span = x1 - x0;
    const pct = (ts: number): number => ((ts - x0) / span) * 100;
    const hasData = this.series.length > 0;
    const at = this.hovered(x0, span);
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
      <div
        class="wrap ${hasData ? '' : 'no-data'}"
        data-testid="chart"
        data-res=${this.resolution}
        data-points=${this.series.length}
        @pointerdown=${this.onPointer}
        @pointermove=${this.onPointer}
        @pointerleave=${this.onPointer}
      >
        <canvas class="plot" role="img" aria-label=${i18n.t('chart.title')}></canvas>
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
          ${at ? html`<div class="cursor" style="left:${pct(at.ts)}%"><b style="top:${100 - (at.concurrency / this.top()) * 100}%"></b></div>` : null}
        </div>
        ${at
          ? html`<div class="readout" data-testid="chart-readout" data-ts=${at.ts}>
              <span>${i18n.t('chart.time')}: <strong>${i18n.time(at.ts)}</strong></span>
              <span><i></i>${i18n.t('chart.title')}: <strong>${i18n.num(at.concurrency)}</strong></span>
            </div>`
          : null}
        ${hasData ? null : html`<div class="empty">${i18n.t('chart.empty')}</div>`}
      </div>
    `;
  }

  private onPointer(e: PointerEvent): void {
    // A finger leaves as soon as it lifts: the readout of a tap stays until the next tap, as a mouse's hover would.
    if (e.type === 'pointerleave' && e.pointerType === 'touch') return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const share = (e.clientX - box.left - PAD.l) / (box.width - PAD.l - PAD.r);
    const y = e.clientY - box.top;
    const inside = e.type !== 'pointerleave' && share >= 0 && share <= 1 && y >= PAD.t && y <= PLOT_HEIGHT - PAD.b;
    this.hoverAt = inside ? share : null;
  }

  override firstUpdated(): void {
    this.resizer = new ResizeObserver(() => this.draw());
    this.resizer.observe(this.renderRoot.querySelector('.wrap')!);
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('series') || changed.has('plans') || changed.has('i18n')) this.draw();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizer?.disconnect();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a disconnect: firstUpdated will not run again, so observe (and so draw) here.
    if (this.hasUpdated) this.firstUpdated();
  }

  /** Paints grid, axis labels and the curve for the current size, series and language. */
  private draw(): void {
    const wrap = this.renderRoot.querySelector<HTMLElement>('.wrap');
    const canvas = this.renderRoot.querySelector('canvas');
    const w = wrap?.clientWidth ?? 0;
    const pw = w - PAD.l - PAD.r;
    if (!canvas || pw <= 0) return;
    const h = PLOT_HEIGHT;
    const ph = h - PAD.t - PAD.b;
    const dpr = devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const g = canvas.getContext('2d')!;
    g.scale(dpr, dpr);
    const { i18n, series } = this;
    const [x0, x1] = this.range();
    const span = x1 - x0;
    const y1 = this.top();
    const X = (ts: number) => PAD.l + ((ts - x0) / span) * pw;
    const Y = (v: number) => PAD.t + ph - (v / y1) * ph;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#6b7280';
    g.strokeStyle = '#eef0f3';
    g.lineWidth = 1;
    g.beginPath();
    // Value grid: a step of 1, 2 or 5 × 10ⁿ viewers, at least Y_SPACE px apart.
    const raw = (y1 * Y_SPACE) / ph;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const dy = Math.max(1, [1, 2, 5, 10].find((k) => k * mag >= raw)! * mag);
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let v = 0; v <= y1; v += dy) {
      const y = Math.round(Y(v)) + 0.5;
      g.moveTo(PAD.l, y);
      g.lineTo(PAD.l + pw, y);
      g.fillText(i18n.compact(v), PAD.l - 8, y);
    }
    // Time grid on round local-clock steps (the labels are local time of day).
    const dx = TIME_STEPS.find((d) => (d / span) * pw >= X_SPACE) ?? 24 * HOUR;
    const tz = new Date(x0).getTimezoneOffset() * MIN;
    const seconds = span < 10 * MIN_SPAN_MS;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (let ts = Math.ceil((x0 - tz) / dx) * dx + tz; ts <= x1; ts += dx) {
      const x = Math.round(X(ts)) + 0.5;
      g.moveTo(x, PAD.t);
      g.lineTo(x, PAD.t + ph);
      const label = i18n.time(ts, seconds);
      // A label cut by the canvas edge is left out rather than drawn in part.
      if (x + g.measureText(label).width / 2 <= w) g.fillText(label, x, PAD.t + ph + 8);
    }
    g.stroke();
    if (series.length === 0) return;
    g.beginPath();
    for (const p of series) g.lineTo(X(p.ts), Y(p.concurrency));
    g.strokeStyle = '#2563eb';
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.stroke();
    g.lineTo(X(series[series.length - 1].ts), Y(0));
    g.lineTo(X(series[0].ts), Y(0));
    g.fillStyle = 'rgba(37, 99, 235, 0.07)';
    g.fill();
  }
}
customElements.define('crest-concurrency-chart', CrestConcurrencyChart);

declare global {
  interface HTMLElementTagNameMap {
    'crest-concurrency-chart': CrestConcurrencyChart;
  }
}
