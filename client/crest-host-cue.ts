/**
 * The host's cue card: one huge instruction at a time, readable from 2 m, and usable as an OBS browser
 * source (`transparent`: no background, outlined text). Shows the newest unexpired host cue, or a calm
 * idle line when there is nothing to do.
 */
import { css, html } from 'lit';
import { LiveView } from './live-view.ts';
import type { RoomMetrics, Suggestion } from '../core/protocol.ts';
import { tokens } from './theme.ts';
import './crest-connection-state.ts';
import './crest-lang-toggle.ts';

const CUE_KINDS = new Set(['cue.tease', 'cue.launch', 'cue.hold', 'cue.countdown', 'cue.retract']);

/**
 * Newest unexpired, unsuppressed host cue at event time `now` (suggestions are newest first). A countdown
 * is over once its moment has come, even if it has not expired: the cue before it shows again.
 */
export function currentCue(suggestions: readonly Suggestion[], now: number): Suggestion | null {
  const live = (s: Suggestion): boolean =>
    s.audience === 'host' &&
    CUE_KINDS.has(s.kind) &&
    s.suppressed === null &&
    s.expiresAt > now &&
    !(s.kind === 'cue.countdown' && Number(s.params.atTs ?? Infinity) <= now);
  return suggestions.find(live) ?? null;
}

function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export class CrestHostCue extends LiveView {
  static override properties = {
    suggestions: { attribute: false },
    metrics: { attribute: false },
    now: { type: Number },
    transparent: { type: Boolean, reflect: true },
  };
  declare suggestions: readonly Suggestion[];
  declare metrics: RoomMetrics | null;
  declare now: number;
  declare transparent: boolean;

  constructor() {
    super();
    this.suggestions = [];
    this.metrics = null;
    this.now = 0;
    this.transparent = false;
  }

  static override styles = [
    tokens,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 100vh;
        background: #0b0d12;
        color: #f9fafb;
        overflow: hidden;
      }
      :host([transparent]) {
        background: transparent;
      }
      .bar {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 12px;
        padding: 1.5vh 2vw;
        font-size: max(2vw, 14px);
        opacity: 0.85;
      }
      .viewers {
        font-variant-numeric: tabular-nums;
        font-weight: 600;
      }
      .corner {
        display: flex;
        gap: 10px;
        align-items: center;
      }
      :host([transparent]) .corner crest-lang-toggle {
        opacity: 0.35;
      }
      :host([transparent]) .corner crest-lang-toggle:hover {
        opacity: 1;
      }
      .stage {
        flex: 1;
        display: flex;
        align-items: center;
        justify-content: center;
        padding: 2vh 4vw 6vh;
      }
      .cue {
        text-align: center;
        font-weight: 800;
        line-height: 1.08;
        letter-spacing: -0.01em;
        font-size: max(8.5vw, 40px);
        overflow-wrap: anywhere;
        text-wrap: balance;
        max-width: 100%;
      }
      @media (orientation: portrait) {
        .cue {
          font-size: max(12vw, 40px);
        }
      }
      .cue.tease {
        color: #fcd34d;
      }
      .cue.launch {
        color: #4ade80;
        animation: pop 0.9s ease-in-out infinite alternate;
      }
      .cue.hold {
        color: #fb923c;
      }
      .cue.countdown {
        color: #e0f2fe;
      }
      .cue.retract {
        color: #cbd5e1;
      }
      .cue.idle {
        color: #94a3b8;
        font-weight: 600;
      }
      .label {
        display: block;
        font-size: max(4.5vw, 24px);
        font-weight: 700;
      }
      .digits {
        display: block;
        font-size: max(17vw, 80px);
        font-variant-numeric: tabular-nums;
        line-height: 1;
        margin-top: 1vh;
      }
      .item {
        display: block;
        font-size: max(4vw, 20px);
        font-weight: 600;
        margin-top: 1vh;
        opacity: 0.9;
      }
      :host([transparent]) .cue,
      :host([transparent]) .bar {
        -webkit-text-stroke: 0.035em #000;
        paint-order: stroke fill;
        text-shadow:
          0 0.03em 0.1em rgb(0 0 0 / 0.85),
          0 0 0.3em rgb(0 0 0 / 0.35);
      }
      :host([transparent]) .bar {
        -webkit-text-stroke: 0.06em #000;
      }
      @keyframes pop {
        to {
          transform: scale(1.04);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .cue.launch {
          animation: none;
        }
      }
    `,
  ];

  override render() {
    const { i18n, metrics } = this;
    const cue = currentCue(this.suggestions, this.now);
    return html`
      <div class="bar">
        <span class="viewers" data-testid="host-viewers"
          >${metrics ? i18n.t('cue.viewers', { n: i18n.num(metrics.concurrency) }) : ''}</span
        >
        <span class="corner">
          <crest-connection-state compact .state=${this.state} .error=${this.error} .i18n=${i18n}></crest-connection-state>
          <crest-lang-toggle .i18n=${i18n}></crest-lang-toggle>
        </span>
      </div>
      <div class="stage">
        ${cue
          ? html`<div
              class="cue ${cue.kind.slice(4)}"
              data-testid="host-cue"
              data-kind=${cue.kind}
              data-suggestion-id=${cue.id}
              role="status"
              aria-live="assertive"
            >
              ${cue.kind === 'cue.countdown' ? this.renderCountdown(cue) : i18n.t(cue.kind as 'cue.tease' | 'cue.launch' | 'cue.hold' | 'cue.retract')}
            </div>`
          : html`<div class="cue idle" data-testid="host-cue" data-kind="idle" role="status">${i18n.t('cue.idle')}</div>`}
      </div>
    `;
  }

  private renderCountdown(cue: Suggestion) {
    const { i18n } = this;
    const at = Number(cue.params.atTs ?? cue.expiresAt);
    const item = cue.params.product ?? cue.params.name ?? cue.params.sku;
    return html`<span class="label">${i18n.t('cue.countdown')}</span>
      <span class="digits" data-testid="host-countdown">${clock(at - this.now)}</span>
      ${item ? html`<span class="item">${i18n.t('cue.countdownItem', { item: String(item) })}</span>` : null}`;
  }
}
customElements.define('crest-host-cue', CrestHostCue);

declare global {
  interface HTMLElementTagNameMap {
    'crest-host-cue': CrestHostCue;
  }
}
