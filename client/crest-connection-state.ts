/** A dot and a word for the link to the server: live, connecting, reconnecting, offline or the error. */
import { css, html } from 'lit';
import { LiveView } from './live-view.ts';
import { statusDot, tokens } from './theme.ts';

export class CrestConnectionState extends LiveView {
  static override properties = {
    compact: { type: Boolean, reflect: true },
  };
  /** Dot only while connected (the host cue overlay); the words appear as soon as something is wrong. */
  declare compact: boolean;

  constructor() {
    super();
    this.compact = false;
  }

  static override styles = [
    tokens,
    statusDot,
    css`
      :host {
        color: inherit;
      }
      span {
        font-size: 13px;
        line-height: 1.3;
        color: inherit;
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
