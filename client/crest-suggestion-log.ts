/**
 * Every suggestion for the room, newest first: time, audience, kind, translated reason, confidence,
 * the policy's reason when it was held back, the alert rules' reason when its webhooks were held (the
 * suggestion itself still stands), and who acknowledged it. Emits `crest-ack`.
 */
import { LitElement, css, html } from 'lit';
import type { Ack, Audience, Suggestion } from '../core/protocol.ts';
import type { HoldRecord } from '../server/webhook-rules.ts';
import { ackEvent, renderAck } from './ack-view.ts';
import type { AckStatus } from './connection-controller.ts';
import type { I18n } from './i18n.ts';
import { shared, tokens } from './theme.ts';

/** Enough rows for a long stream; older ones stay in the store and the report. */
const MAX_ROWS = 200;

export class CrestSuggestionLog extends LitElement {
  static override properties = {
    suggestions: { attribute: false },
    acks: { attribute: false },
    ackStatus: { attribute: false },
    holds: { attribute: false },
    i18n: { attribute: false },
  };
  declare suggestions: readonly Suggestion[];
  declare acks: ReadonlyMap<string, Ack>;
  declare ackStatus: ReadonlyMap<string, AckStatus>;
  /** Per suggestion id, the audiences whose webhook alerts the room's alert rules held, and why. */
  declare holds: ReadonlyMap<string, HoldRecord['holds']>;
  declare i18n: I18n;

  constructor() {
    super();
    this.suggestions = [];
    this.acks = new Map();
    this.ackStatus = new Map();
    this.holds = new Map();
  }

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-width: 0;
        min-height: 0;
      }
      h2 {
        padding: 12px 12px 8px;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0 12px 8px;
        overflow-y: auto;
        flex: 1;
      }
      li {
        padding: 9px 0;
        border-top: 1px solid var(--c-border);
        display: grid;
        grid-template-columns: auto 1fr auto;
        gap: 3px 8px;
        align-items: baseline;
        font-size: 13px;
      }
      time {
        color: var(--c-muted);
        font-size: 12px;
      }
      .what {
        display: flex;
        gap: 6px;
        align-items: baseline;
        flex-wrap: wrap;
        min-width: 0;
      }
      .aud {
        font-size: 11px;
        font-weight: 600;
        border-radius: 4px;
        padding: 0 5px;
        border: 1px solid currentColor;
      }
      .aud.operator {
        color: var(--c-aud-operator);
      }
      .aud.host {
        color: var(--c-aud-host);
      }
      .aud.buyer {
        color: var(--c-aud-buyer);
      }
      .conf {
        color: var(--c-muted);
        font-size: 12px;
        white-space: nowrap;
      }
      .reason,
      .held,
      .sup {
        grid-column: 2;
        overflow-wrap: anywhere;
      }
      .sup {
        grid-column: 2 / -1;
      }
      .sup {
        color: var(--c-faint);
        font-style: italic;
        font-size: 12px;
      }
      .held {
        color: var(--c-rising);
        font-size: 12px;
      }
      li.suppressed .what,
      li.suppressed .reason {
        color: var(--c-faint);
      }
      li.suppressed .aud {
        color: var(--c-faint);
      }
      .act {
        grid-column: 3;
        grid-row: span 2;
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        text-align: right;
        gap: 2px;
        align-self: center;
      }
      /* "Acknowledged by … at …" is long: it gets its own line under the reason. */
      .act.done {
        grid-column: 2 / -1;
        grid-row: auto;
        align-items: flex-start;
        text-align: left;
      }
      .acked {
        color: var(--c-go);
        font-size: 12px;
      }
      .ack-error {
        color: var(--c-stop);
        font-size: 12px;
      }
      button {
        min-height: 28px;
        padding: 3px 10px;
        font-size: 12px;
      }
      .empty {
        color: var(--c-muted);
        padding: 12px;
        font-size: 14px;
      }
    `,
  ];

  override render() {
    const { i18n } = this;
    const rows = this.suggestions.slice(0, MAX_ROWS);
    return html`
      <h2>${i18n.t('log.title')}</h2>
      ${rows.length === 0
        ? html`<div class="empty">${i18n.t('log.empty')}</div>`
        : html`<ol>
            ${rows.map(
              (sg) => html`<li
                class=${sg.suppressed ? 'suppressed' : ''}
                data-testid="suggestion-row"
                data-kind=${sg.kind}
                data-audience=${sg.audience}
                data-suggestion-id=${sg.id}
                ?data-suppressed=${sg.suppressed !== null}
                ?data-acked=${this.acks.has(sg.id)}
              >
                <time class="num">${i18n.time(sg.createdAt)}</time>
                <span class="what">
                  <span class="aud ${sg.audience}">${i18n.audience(sg.audience)}</span>
                  <strong>${i18n.kind(sg.kind)}</strong>
                </span>
                <span class="conf num">${i18n.t('log.confidence', { pct: i18n.pct(sg.confidence) })}</span>
                <span class="reason">${i18n.reason(sg)}</span>
                ${Object.entries(this.holds.get(sg.id) ?? {}).map(
                  ([aud, h]) => html`<span class="held" data-testid="held-reason" data-code=${h.code} title=${h.reason}
                    >${i18n.t('log.held', { aud: i18n.audience(aud as Audience), why: i18n.t(`hold.${h.code}`) })}</span
                  >`,
                )}
                ${sg.suppressed
                  ? html`<span class="sup" data-testid="suppressed-reason"
                      >${i18n.t('log.suppressed', { reason: i18n.suppressed(sg.suppressed) })}</span
                    >`
                  : html`<span class="act ${this.acks.has(sg.id) ? 'done' : ''}"
                      >${renderAck(i18n, this.acks.get(sg.id), this.ackStatus.get(sg.id), () =>
                        this.dispatchEvent(ackEvent(sg.id)),
                      )}</span
                    >`}
              </li>`,
            )}
          </ol>`}
    `;
  }
}
customElements.define('crest-suggestion-log', CrestSuggestionLog);

declare global {
  interface HTMLElementTagNameMap {
    'crest-suggestion-log': CrestSuggestionLog;
  }
}
