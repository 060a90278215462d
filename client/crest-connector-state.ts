/**
 * The room's platform connector at a glance, for the operator panel's top bar: platform and account, its
 * status (connecting, connected, retrying, ended, error, stopped) and, when it is not connected, why.
 * Renders nothing when the room has no connector.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { ConnectorState } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { statusDot, tokens } from './theme.ts';

export class CrestConnectorState extends LitElement {
  static override properties = { connector: { attribute: false }, i18n: { attribute: false } };
  declare connector: (ConnectorState & { stale: boolean }) | null;
  declare i18n: I18n;

  constructor() {
    super();
    this.connector = null;
  }

  static override styles = [
    tokens,
    statusDot,
    css`
      :host {
        font-size: 13px;
      }
      span {
        padding: 2px 8px;
        border-radius: 12px;
        border: 1px solid var(--c-border);
      }
      i {
        width: 8px;
        height: 8px;
      }
      [data-status='connected'] i {
        background: var(--c-go);
      }
      [data-status='connecting'] i,
      [data-status='retrying'] i,
      [data-stale] i {
        background: var(--c-rising);
      }
      [data-status='error'] {
        border-color: #fecaca;
        color: var(--c-stop);
      }
      [data-status='error'] i {
        background: var(--c-stop);
      }
      em {
        font-style: normal;
        color: var(--c-muted);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        max-width: 36ch;
      }
      [data-status='error'] em {
        color: inherit;
      }
    `,
  ];

  override render() {
    const c = this.connector;
    if (!c) return nothing;
    const { i18n } = this;
    const status = c.status === 'retrying' ? i18n.t('connector.retrying', { n: c.attempt }) : i18n.t(`connector.${c.status}` as const);
    const why = c.stale ? i18n.t('connector.stale') : c.status === 'connected' ? null : c.reason;
    return html`<span data-testid="connector-state" data-status=${c.status} ?data-stale=${c.stale} role="status" title=${why ?? status}
      ><i></i><b>${c.platform === 'tiktok' ? 'TikTok' : c.platform} @${c.account}</b>${status}${why
        ? html`<em data-testid="connector-reason">${why}</em>`
        : null}</span
    >`;
  }
}
customElements.define('crest-connector-state', CrestConnectorState);

declare global {
  interface HTMLElementTagNameMap {
    'crest-connector-state': CrestConnectorState;
  }
}
