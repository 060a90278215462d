/** A dot and a word for the link to the server: live, connecting, reconnecting, offline or the error. */
import { LitElement, css, html } from 'lit';
import type { ConnState } from './connection-controller.ts';
import type { I18n } from './i18n.ts';
import { tokens } from './theme.ts';

export class CrestConnectionState extends LitElement {
  static override properties = {
    state: {},
    error: {},
    i18n: { attribute: false },
    compact: { type: Boolean, reflect: true },
  };
  declare state: ConnState;
  declare error: string | null;
  declare i18n: I18n;
  /** Dot only while connected (the host cue overlay); the words appear as soon as something is wrong. */
  declare compact: boolean;

  constructor() {
    super();
    this.state = 'connecting';
    this.error = null;
    this.compact = false;
  }

  static override styles = [
    tokens,
    css`
      :host {
        display: inline-flex;
        min-width: 0;
        color: inherit;
      }
      span {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        font-size: 13px;
        line-height: 1.3;
        min-width: 0;
        color: inherit;
      }
      i {
        flex: none;
        width: 9px;
        height: 9px;
        border-radius: 50%;
        background: var(--c-faint);
      }
      b {
        font-weight: 500;
        overflow-wrap: anywhere;
      }
      [data-state='connected'] i {
        background: #16a34a;
        box-shadow: 0 0 0 3px rgb(22 163 74 / 0.2);
      }
      [data-state='reconnecting'] i,
      [data-state='connecting'] i {
        background: #f59e0b;
        animation: pulse 1s ease-in-out infinite alternate;
      }
      [data-state='offline'] i {
        background: #6b7280;
      }
      [data-state='error'] i {
        background: #dc2626;
      }
      [data-state='error'] b {
        color: #dc2626;
      }
      @keyframes pulse {
        to {
          opacity: 0.3;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        i {
          animation: none !important;
        }
      }
    `,
  ];

  override render() {
    const { i18n, state } = this;
    const text =
      state === 'error' ? i18n.t('conn.error', { reason: i18n.error(this.error ?? 'error') }) : i18n.t(`conn.${state}` as const);
    const hideText = this.compact && state === 'connected';
    return html`<span data-testid="connection-state" data-state=${state} role="status" title=${text}
      ><i></i>${hideText ? null : html`<b>${text}</b>`}</span
    >`;
  }
}
customElements.define('crest-connection-state', CrestConnectionState);

declare global {
  interface HTMLElementTagNameMap {
    'crest-connection-state': CrestConnectionState;
  }
}
