/**
 * The operator's room panel: KPIs, the concurrency chart, highlight windows, the suggestion log (with the
 * webhook alerts the room's alert rules held), the plan, failed webhook deliveries, the connector state,
 * and the stream-to-date details, fetched only when the operator opens them.
 */
import { css, html } from 'lit';
import { RoomView } from './live-view.ts';
import type { ConnectorState, SeriesPoint, SeriesResolution } from '../core/protocol.ts';
import type { HoldRecord } from '../server/webhook-rules.ts';
import type { ResolutionEvent } from './crest-concurrency-chart.ts';
import { PollController } from './poll-controller.ts';
import { EMPTY_ROOM, type RoomState } from './room-state.ts';
import { viewHref } from './session.ts';
import { pageStyles } from './theme.ts';
import './crest-concurrency-chart.ts';
import './crest-connection-state.ts';
import './crest-connector-state.ts';
import './crest-dead-letters.ts';
import './crest-kpi-tiles.ts';
import './crest-lang-toggle.ts';
import './crest-plan-editor.ts';
import './crest-suggestion-log.ts';
import './crest-window-table.ts';

const SERIES_POLL_MS = 10_000;
/** Holds are decided by the alert worker a moment after a suggestion: a slow poll marks them soon enough. */
const HOLDS_POLL_MS = 10_000;

export class CrestOperatorPanel extends RoomView {
  static override properties = {
    room: { attribute: false },
    connector: { attribute: false },
    resolution: { state: true },
    details: { state: true },
  };
  declare room: RoomState;
  /** The room's platform connector, null when it has none. */
  declare connector: (ConnectorState & { stale: boolean }) | null;
  /** The chart's resolution: '1s' draws the live series from the socket; 10 s / 1 min are polled. */
  declare resolution: SeriesResolution;
  /** The details card: false while closed, 'loading' while its chunk is fetched, true once on screen. */
  declare details: boolean | 'loading';
  private seriesCtl: PollController<readonly SeriesPoint[]> | null = null;
  private holdsCtl: PollController<readonly HoldRecord[]> | null = null;
  private holdsBy: [readonly HoldRecord[], ReadonlyMap<string, HoldRecord['holds']>] = [[], new Map()];

  constructor() {
    super();
    this.room = EMPTY_ROOM;
    this.connector = null;
    this.resolution = '1s';
    this.details = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Created once the room and token are set (the app renders this element with both).
    this.holdsCtl ??= new PollController(
      this,
      this.token,
      `/api/v1/rooms/${encodeURIComponent(this.roomId)}/alert-holds`,
      (b) => (b as { holds?: HoldRecord[] }).holds,
      [],
      HOLDS_POLL_MS,
    );
  }

  static override styles = [
    pageStyles,
    css`
      h1 {
        display: flex;
        align-items: baseline;
        gap: 8px;
      }
      h1 span {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      nav {
        display: flex;
        gap: 10px;
        font-size: 13px;
      }
      nav a {
        color: var(--c-accent);
        text-decoration: none;
        white-space: nowrap;
      }
      main {
        padding: 12px 16px 24px;
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(320px, 400px);
        grid-template-areas:
          'kpi kpi'
          'chart log'
          'windows log'
          'plans log'
          'dead log'
          'details log';
        grid-template-rows: auto auto auto auto auto 1fr;
        gap: 12px;
        max-width: 1600px;
        margin: 0 auto;
      }
      crest-kpi-tiles {
        grid-area: kpi;
      }
      .banner {
        margin: 12px 16px 0;
        padding: 12px 14px;
        border-radius: var(--radius);
        background: #fef2f2;
        border: 1px solid #fecaca;
        color: var(--c-stop);
        font-weight: 600;
      }
      crest-concurrency-chart {
        grid-area: chart;
        min-width: 0;
      }
      crest-window-table {
        grid-area: windows;
        align-self: start;
      }
      crest-plan-editor {
        grid-area: plans;
        align-self: start;
      }
      crest-dead-letters {
        grid-area: dead;
        align-self: start;
      }
      crest-suggestion-log {
        grid-area: log;
        max-height: 640px;
      }
      .details {
        grid-area: details;
        align-self: start;
      }
      nav button {
        min-height: 0;
        padding: 0 8px;
        font-size: 13px;
      }
      @media (max-width: 900px) {
        header {
          padding: 8px 12px;
        }
        main {
          padding: 10px 10px 20px;
          grid-template-columns: minmax(0, 1fr);
          grid-template-areas: 'kpi' 'chart' 'log' 'windows' 'plans' 'dead' 'details';
          grid-template-rows: none;
        }
        crest-suggestion-log {
          max-height: 70vh;
        }
      }
    `,
  ];

  override render() {
    const { i18n, room, token } = this;
    const id = encodeURIComponent(this.roomId);
    return html`
      <header>
        <h1>
          <a href=${viewHref('/', token)} title=${i18n.t('nav.rooms')}>${i18n.t('app.title')}</a>
          <span data-testid="room-name">${this.roomId}</span>
        </h1>
        <nav>
          <a href=${viewHref(`/host/${id}`, token)}>${i18n.t('nav.host')}</a>
          <a href=${viewHref(`/buyer/${id}`, token)}>${i18n.t('nav.buyer')}</a>
          <button data-testid="details-toggle" aria-pressed=${this.details === true} ?disabled=${this.details === 'loading'} @click=${this.toggleDetails}>
            ${i18n.t('det.open')}
          </button>
        </nav>
        <crest-connector-state .connector=${this.connector} .i18n=${i18n}></crest-connector-state>
        <crest-connection-state .state=${this.state} .error=${this.error} .i18n=${i18n}></crest-connection-state>
        <crest-lang-toggle .i18n=${i18n}></crest-lang-toggle>
      </header>
      ${this.state === 'error'
        ? html`<div class="banner" role="alert">
            ${i18n.t('conn.error', { reason: i18n.error(this.error ?? 'error') })}
          </div>`
        : null}
      <main>
        <crest-kpi-tiles .metrics=${room.metrics} .i18n=${i18n}></crest-kpi-tiles>
        <crest-concurrency-chart
          class="card"
          .series=${this.resolution === '1s' ? room.series : (this.seriesCtl?.data ?? [])}
          .windows=${room.windows}
          .suggestions=${room.suggestions}
          .plans=${room.plans}
          .resolution=${this.resolution}
          @crest-resolution=${(e: ResolutionEvent) => this.setResolution(e.detail.resolution)}
          .i18n=${i18n}
        ></crest-concurrency-chart>
        <crest-window-table class="card" .windows=${room.windows} .i18n=${i18n}></crest-window-table>
        <crest-plan-editor class="card" .roomId=${this.roomId} .token=${token} .plans=${room.plans} .i18n=${i18n}></crest-plan-editor>
        <crest-dead-letters class="card" .roomId=${this.roomId} .token=${token} .i18n=${i18n}></crest-dead-letters>
        ${this.details === true
          ? html`<crest-metrics-detail class="card details" .roomId=${this.roomId} .token=${token} .i18n=${i18n}></crest-metrics-detail>`
          : null}
        <crest-suggestion-log
          class="card"
          .suggestions=${room.suggestions}
          .acks=${room.acks}
          .ackStatus=${this.ackStatus}
          .holds=${this.heldById()}
          .i18n=${i18n}
        ></crest-suggestion-log>
      </main>
    `;
  }

  /** The details chunk is fetched on the first open (the panel's first load does not carry it). */
  private async toggleDetails(): Promise<void> {
    if (this.details !== false) {
      this.details = false;
      return;
    }
    this.details = 'loading';
    try {
      await import('./crest-metrics-detail.ts');
      this.details = true;
    } catch {
      // The chunk could not be fetched (offline, a redeploy): the button stays for another try.
      this.details = false;
    }
  }

  /** The held alerts by suggestion id, rebuilt only when a poll brought a new list. */
  private heldById(): ReadonlyMap<string, HoldRecord['holds']> {
    const list = this.holdsCtl?.data ?? [];
    if (this.holdsBy[0] !== list) this.holdsBy = [list, new Map(list.map((r) => [r.suggestionId, r.holds]))];
    return this.holdsBy[1];
  }

  /** Swaps the series poller: none for live 1 s points, else GET …/series?res= every 10 s (buckets fill in as they close). */
  private setResolution(res: SeriesResolution): void {
    if (res === this.resolution) return;
    if (this.seriesCtl) {
      this.removeController(this.seriesCtl);
      this.seriesCtl.hostDisconnected();
      this.seriesCtl = null;
    }
    this.resolution = res;
    if (res === '1s') return;
    const path = `/api/v1/rooms/${encodeURIComponent(this.roomId)}/series?res=${res}`;
    this.seriesCtl = new PollController(this, this.token, path, (b) => (b as { points?: SeriesPoint[] }).points, [], SERIES_POLL_MS);
  }
}
customElements.define('crest-operator-panel', CrestOperatorPanel);

declare global {
  interface HTMLElementTagNameMap {
    'crest-operator-panel': CrestOperatorPanel;
  }
}
