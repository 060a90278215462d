/**
 * The ad buyer's alert feed: "boost now" (green: reason, confidence, forecast peak, suggested boost
 * length) and "stop boost" (red), newest first, expired ones dimmed. Emits `crest-ack`.
 */
import { css, html } from 'lit';
import { RoomView } from './live-view.ts';
import type { Ack, RoomMetrics, Suggestion } from '../core/protocol.ts';
import { ackEvent, renderAck } from './ack-view.ts';
import { viewHref } from './session.ts';
import { pageStyles } from './theme.ts';
import './crest-connection-state.ts';
import './crest-lang-toggle.ts';

const MAX_CARDS = 100;

export class CrestBuyerFeed extends RoomView {
  static override properties = {
    suggestions: { attribute: false },
    acks: { attribute: false },
    metrics: { attribute: false },
    now: { type: Number },
  };
  declare suggestions: readonly Suggestion[];
  declare acks: ReadonlyMap<string, Ack>;
  declare metrics: RoomMetrics | null;
  declare now: number;

  constructor() {
    super();
    this.suggestions = [];
    this.acks = new Map();
    this.metrics = null;
    this.now = 0;
  }

  static override styles = [
    pageStyles,
    css`
      h1 {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      h1 a {
        margin-left: 6px;
      }
      .viewers {
        font-weight: 600;
        font-size: 14px;
      }
      main {
        max-width: 760px;
        margin: 0 auto;
        padding: 14px 12px 28px;
        display: flex;
        flex-direction: column;
        gap: 12px;
      }
      article {
        border-radius: 14px;
        padding: 16px 18px;
        background: var(--c-surface);
        border: 1px solid var(--c-border);
        border-left: 8px solid;
        display: grid;
        gap: 8px;
      }
      article.now {
        border-color: #86efac;
        border-left-color: var(--c-go);
        background: #f0fdf4;
      }
      article.stop {
        border-color: #fca5a5;
        border-left-color: var(--c-stop);
        background: #fef2f2;
      }
      article.expired {
        opacity: 0.5;
        filter: saturate(0.4);
      }
      .top {
        display: flex;
        align-items: baseline;
        gap: 10px;
        flex-wrap: wrap;
      }
      .title {
        font-size: 28px;
        font-weight: 800;
        line-height: 1.1;
        flex: 1 1 auto;
      }
      .now .title {
        color: var(--c-go);
      }
      .stop .title {
        color: var(--c-stop);
      }
      .when {
        color: var(--c-muted);
        font-size: 13px;
        white-space: nowrap;
      }
      .exp {
        font-size: 12px;
        font-weight: 700;
        color: var(--c-muted);
        border: 1px solid currentColor;
        border-radius: 4px;
        padding: 0 5px;
      }
      .reason {
        font-size: 16px;
        overflow-wrap: anywhere;
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        gap: 8px;
        margin: 0;
      }
      dt {
        font-size: 12px;
        color: var(--c-muted);
      }
      dd {
        margin: 0;
        font-size: 17px;
        font-weight: 650;
      }
      dd small {
        display: block;
        font-size: 12px;
        font-weight: 400;
        color: var(--c-muted);
      }
      .act {
        display: flex;
        gap: 10px;
        align-items: center;
        flex-wrap: wrap;
      }
      .act button {
        min-height: 40px;
        padding: 6px 18px;
        font-weight: 600;
      }
      .acked {
        color: var(--c-go);
        font-size: 13px;
      }
      .ack-error {
        color: var(--c-stop);
        font-size: 13px;
      }
      .empty {
        text-align: center;
        color: var(--c-muted);
        padding: 40px 12px;
      }
      @media (max-width: 480px) {
        .title {
          font-size: 24px;
        }
        header {
          padding: 8px 12px;
        }
      }
    `,
  ];

  override render() {
    const { i18n } = this;
    const cards = this.suggestions
      .filter((s) => s.audience === 'buyer' && (s.kind === 'boost.now' || s.kind === 'boost.stop') && !s.suppressed)
      .slice(0, MAX_CARDS);
    return html`
      <header>
        <h1>
          ${i18n.t('buyer.title')} · ${this.roomId}
          <a href=${viewHref('/', this.token)}>${i18n.t('nav.rooms')}</a>
        </h1>
        ${this.metrics
          ? html`<span class="viewers num">${i18n.t('cue.viewers', { n: i18n.num(this.metrics.concurrency) })}</span>`
          : null}
        <crest-connection-state .state=${this.state} .error=${this.error} .i18n=${i18n}></crest-connection-state>
        <crest-lang-toggle .i18n=${i18n}></crest-lang-toggle>
      </header>
      <main>
        ${cards.length === 0 ? html`<div class="empty">${i18n.t('buyer.empty')}</div>` : cards.map((s) => this.renderCard(s))}
      </main>
    `;
  }

  private renderCard(s: Suggestion) {
    const { i18n, now } = this;
    const expired = s.expiresAt <= now;
    const isNow = s.kind === 'boost.now';
    return html`<article
      class="${isNow ? 'now' : 'stop'} ${expired ? 'expired' : ''}"
      data-testid="buyer-alert"
      data-kind=${s.kind}
      data-suggestion-id=${s.id}
      ?data-expired=${expired}
    >
      <div class="top">
        <span class="title">${i18n.kind(s.kind)}</span>
        ${expired
          ? html`<span class="exp">${i18n.t('buyer.expired')}</span>`
          : html`<span class="when">${i18n.t('buyer.expiresIn', { n: Math.max(1, Math.ceil((s.expiresAt - now) / 60_000)) })}</span>`}
        <span class="when num">${i18n.time(s.createdAt)}</span>
      </div>
      <div class="reason">${i18n.reason(s)}</div>
      <dl>
        <div>
          <dt>${i18n.t('buyer.confidence')}</dt>
          <dd class="num">${i18n.pct(s.confidence)}</dd>
        </div>
        ${isNow && s.forecastPeakTs !== null
          ? html`<div>
              <dt>${i18n.t('buyer.forecast')}</dt>
              <dd class="num" data-testid="forecast-peak">
                ${s.forecastPeakTs > now
                  ? html`${i18n.peakIn(s.forecastPeakTs - now)}<small>${i18n.time(s.forecastPeakTs, false)}</small>`
                  : i18n.time(s.forecastPeakTs, false)}
              </dd>
            </div>`
          : null}
        ${isNow && s.suggestedBoostMin !== null
          ? html`<div>
              <dt>${i18n.t('buyer.duration')}</dt>
              <dd class="num">${i18n.t('buyer.durationMin', { n: i18n.num(s.suggestedBoostMin) })}</dd>
            </div>`
          : null}
      </dl>
      <div class="act">
        ${renderAck(i18n, this.acks.get(s.id), this.ackStatus.get(s.id), () => this.dispatchEvent(ackEvent(s.id)))}
      </div>
    </article>`;
  }
}
customElements.define('crest-buyer-feed', CrestBuyerFeed);

declare global {
  interface HTMLElementTagNameMap {
    'crest-buyer-feed': CrestBuyerFeed;
  }
}
