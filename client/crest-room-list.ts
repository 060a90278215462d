/** Every room the token may see, what needs attention now first (room-ranking.ts), with links into each view. */
import { LitElement, css, html } from 'lit';
import type { RoomSummary } from '../core/protocol.ts';
import type { ConnState } from './connection-controller.ts';
import type { I18n } from './i18n.ts';
import { attentionOf, rankRooms, type Attention } from './room-ranking.ts';
import { viewHref } from './session.ts';
import { pageStyles } from './theme.ts';
import './crest-connection-state.ts';
import './crest-lang-toggle.ts';

/** Tiers that mean "act within minutes": their rows get the marker bar. */
const URGENT = new Set<Attention>(['plan-at-risk', 'rising', 'peak']);

export class CrestRoomList extends LitElement {
  static override properties = {
    rooms: { attribute: false },
    i18n: { attribute: false },
    token: {},
    state: {},
    error: {},
  };
  declare rooms: readonly RoomSummary[];
  declare i18n: I18n;
  declare token: string | null;
  declare state: ConnState;
  declare error: string | null;

  constructor() {
    super();
    this.rooms = [];
    this.token = null;
    this.state = 'connecting';
    this.error = null;
  }

  static override styles = [
    pageStyles,
    css`
      header {
        gap: 12px;
        flex-wrap: nowrap;
        padding: 12px 20px;
      }
      h1 small {
        color: var(--c-muted);
        font-weight: 500;
        margin-left: 8px;
      }
      main {
        padding: 16px 20px;
        max-width: 1280px;
        margin: 0 auto;
      }
      /* One grid for the whole table (rows are subgrids), so columns line up whatever each row holds. */
      .tbl {
        display: grid;
        grid-template-columns: minmax(150px, 1.3fr) 96px 150px 130px minmax(170px, 1.6fr) auto;
      }
      .row {
        grid-column: 1 / -1;
        display: grid;
        grid-template-columns: subgrid;
        grid-template-areas: 'room viewers hl gmv last links';
        align-items: center;
        gap: 8px 16px;
        padding: 12px 16px;
        border-bottom: 1px solid var(--c-border);
      }
      .row:last-child {
        border-bottom: 0;
      }
      .head {
        padding-top: 10px;
        padding-bottom: 10px;
      }
      .row.head > * {
        font-size: 12px;
        font-weight: 500;
        color: var(--c-muted);
      }
      .room {
        grid-area: room;
        font-weight: 600;
        display: flex;
        align-items: center;
        gap: 8px;
        min-width: 0;
      }
      .room span {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .viewers {
        grid-area: viewers;
        font-size: 18px;
        font-weight: 600;
        text-align: right;
      }
      .hl {
        grid-area: hl;
      }
      .gmv {
        grid-area: gmv;
        text-align: right;
      }
      .last {
        grid-area: last;
        font-size: 13px;
        min-width: 0;
      }
      .last div {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .links {
        grid-area: links;
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
        justify-content: flex-end;
      }
      .links a {
        font-size: 13px;
        text-decoration: none;
        color: var(--c-accent);
        border: 1px solid var(--c-border);
        border-radius: 8px;
        padding: 5px 9px;
        white-space: nowrap;
      }
      .links a:hover {
        border-color: var(--c-accent);
      }
      .live {
        font-style: normal;
        font-size: 11px;
        background: #dc2626;
        color: #fff;
        border-radius: 4px;
        padding: 1px 6px;
        flex: none;
      }
      .live.off {
        background: var(--c-border);
        color: var(--c-muted);
      }
      .row.attention {
        box-shadow: inset 4px 0 0 var(--c-rising);
      }
      .empty {
        padding: 32px;
        text-align: center;
        color: var(--c-muted);
      }
      .label {
        display: none;
      }
      @media (max-width: 760px) {
        header {
          padding: 10px 12px;
          flex-wrap: wrap;
        }
        main {
          padding: 12px 8px;
        }
        .head {
          display: none;
        }
        .tbl {
          grid-template-columns: minmax(0, 1fr);
        }
        .row {
          grid-template-columns: 1fr 1fr 1fr;
          grid-template-areas:
            'room room room'
            'viewers hl gmv'
            'last last last'
            'links links links';
          padding: 12px;
          align-items: start;
        }
        .viewers,
        .gmv {
          text-align: left;
        }
        .label {
          display: block;
          font-size: 11px;
          color: var(--c-muted);
          font-weight: 400;
        }
        .links {
          justify-content: flex-start;
        }
      }
    `,
  ];

  override render() {
    const { i18n } = this;
    const rows = rankRooms(this.rooms);
    return html`
      <header>
        <h1>${i18n.t('app.title')}<small>${i18n.t('rooms.title')}</small></h1>
        <crest-connection-state .state=${this.state} .error=${this.error} .i18n=${i18n}></crest-connection-state>
        <crest-lang-toggle .i18n=${i18n}></crest-lang-toggle>
      </header>
      <main>
        <div class="card tbl" role="table">
          <div class="row head" role="row">
            <div class="room" role="columnheader">${i18n.t('rooms.col.room')}</div>
            <div class="viewers" role="columnheader">${i18n.t('rooms.col.viewers')}</div>
            <div class="hl" role="columnheader">${i18n.t('rooms.col.highlight')}</div>
            <div class="gmv" role="columnheader">${i18n.t('rooms.col.gmv')}</div>
            <div class="last" role="columnheader">${i18n.t('rooms.col.last')}</div>
            <div class="links" role="columnheader">${i18n.t('rooms.col.open')}</div>
          </div>
          ${rows.length === 0
            ? html`<div class="empty">${this.state === 'connected' ? i18n.t('rooms.empty') : i18n.t('conn.connecting')}</div>`
            : rows.map((r) => this.renderRow(r))}
        </div>
      </main>
    `;
  }

  private renderRow(r: RoomSummary) {
    const { i18n, token } = this;
    const m = r.metrics;
    const w = r.activeWindow;
    const sg = r.lastSuggestion;
    const room = encodeURIComponent(r.room);
    const agoMin = sg && m ? Math.floor((m.ts - sg.createdAt) / 60_000) : null;
    const attention = attentionOf(r);
    return html`
      <div
        class="row ${URGENT.has(attention) ? 'attention' : ''}"
        role="row"
        data-testid="room-row"
        data-room=${r.room}
        data-attention=${attention}
      >
        <div class="room" role="cell">
          <span title=${r.room}>${r.room}</span>
          <em class="live ${m?.live ? '' : 'off'}">${m?.live ? i18n.t('rooms.live') : i18n.t('rooms.notLive')}</em>
        </div>
        <div class="viewers num" role="cell">
          <span class="label">${i18n.t('rooms.col.viewers')}</span>${m ? i18n.compact(m.concurrency) : '—'}
        </div>
        <div class="hl" role="cell">
          <span class="label">${i18n.t('rooms.col.highlight')}</span>
          ${w
            ? html`<span class="tag ${w.state}">${i18n.windowState(w.state)}</span>
                <span class="num">+${i18n.num(w.liftPct)}%</span>`
            : html`<span class="muted">${i18n.t('rooms.noWindow')}</span>`}
        </div>
        <div class="gmv num" role="cell">
          <span class="label">${i18n.t('rooms.col.gmv')}</span>${m ? i18n.money(m.gmv, true) : '—'}
        </div>
        <div class="last" role="cell">
          <span class="label">${i18n.t('rooms.col.last')}</span>
          ${sg
            ? html`<div>
                <strong>${i18n.kind(sg.kind)}</strong>
                <span class="muted"
                  >· ${agoMin !== null && agoMin >= 1 ? i18n.t('rooms.ago', { n: agoMin }) : i18n.t('rooms.justNow')}</span
                >
              </div>`
            : html`<span class="muted">${i18n.t('rooms.none')}</span>`}
        </div>
        <div class="links" role="cell">
          <a href=${viewHref(`/operator/${room}`, token)}>${i18n.t('nav.operator')}</a>
          <a href=${viewHref(`/host/${room}`, token)}>${i18n.t('nav.host')}</a>
          <a href=${viewHref(`/host/${room}`, token, { transparent: '1' })} title="OBS browser source">${i18n.t('nav.hostObs')}</a>
          <a href=${viewHref(`/buyer/${room}`, token)}>${i18n.t('nav.buyer')}</a>
        </div>
      </div>
    `;
  }
}
customElements.define('crest-room-list', CrestRoomList);

declare global {
  interface HTMLElementTagNameMap {
    'crest-room-list': CrestRoomList;
  }
}
