/** Highlight windows, newest first: state, onset (and how late we caught it), peak, lift, confidence, GMV. */
import { LitElement, css, html } from 'lit';
import type { HighlightWindow } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { tableCardStyles } from './theme.ts';

export class CrestWindowTable extends LitElement {
  static override properties = {
    windows: { attribute: false },
    i18n: { attribute: false },
  };
  declare windows: readonly HighlightWindow[];
  declare i18n: I18n;

  constructor() {
    super();
    this.windows = [];
  }

  static override styles = [
    tableCardStyles,
    css`
      .scroll {
        margin-top: 8px;
      }
      th {
        text-align: left;
        padding: 4px 8px 6px 0;
      }
      td {
        padding: 7px 8px 7px 0;
        vertical-align: top;
      }
      .r {
        text-align: right;
      }
      small {
        display: block;
        color: var(--c-muted);
        font-size: 11px;
      }
      .empty {
        color: var(--c-muted);
        font-size: 14px;
        padding: 12px 0 4px;
      }
    `,
  ];

  override render() {
    const { i18n } = this;
    const rows = [...this.windows].reverse();
    return html`
      <h2>${i18n.t('windows.title')}</h2>
      ${rows.length === 0
        ? html`<div class="empty">${i18n.t('windows.empty')}</div>`
        : html`<div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>${i18n.t('windows.col.state')}</th>
                  <th>${i18n.t('windows.col.onset')}</th>
                  <th class="r">${i18n.t('windows.col.peak')}</th>
                  <th class="r">${i18n.t('windows.col.lift')}</th>
                  <th class="r">${i18n.t('windows.col.confidence')}</th>
                  <th class="r">${i18n.t('windows.col.gmv')}</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  (w) => html`<tr data-testid="window-row" data-state=${w.state} data-window-id=${w.id}>
                    <td><span class="tag ${w.state}">${i18n.windowState(w.state)}</span></td>
                    <td class="num">
                      ${i18n.time(w.onsetTs)}
                      <small>${i18n.t('windows.latency', { s: i18n.num((w.detectedTs - w.onsetTs) / 1000) })}</small>
                    </td>
                    <td class="r num">
                      ${i18n.num(w.peak)}
                      <small>${w.peakTs !== null ? i18n.time(w.peakTs) : '—'}</small>
                    </td>
                    <td class="r num">+${i18n.num(w.liftPct)}%</td>
                    <td class="r num">${i18n.pct(w.confidence)}</td>
                    <td class="r num">
                      ${i18n.money(w.gmv)}
                      <small>${i18n.t('windows.orders', { n: i18n.num(w.orders) })}</small>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
    `;
  }
}
customElements.define('crest-window-table', CrestWindowTable);

declare global {
  interface HTMLElementTagNameMap {
    'crest-window-table': CrestWindowTable;
  }
}
