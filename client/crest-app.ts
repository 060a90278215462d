/**
 * The router and the only owner of side effects: it reads the route and token once, loads what that
 * route needs (its view, the socket or the room-list poller, the reader's language), hosts the
 * controller that talks to the server, keeps the language and a one-second clock, and hands everything
 * down as properties. Views answer with events: `crest-ack` (acknowledge a suggestion) and `crest-lang`
 * (switch language).
 */
import { LitElement, css, html, nothing } from 'lit';
import type { ConnectorState, ConnectorsResponse, RoomSummary } from '../core/protocol.ts';
import type { AckEvent } from './ack-view.ts';
import type { ConnectionController } from './connection-controller.ts';
import type { LangEvent } from './crest-lang-toggle.ts';
import { createI18n, currencyFromUrl, initialLang, loadLang, saveLang, type I18n, type Lang } from './i18n.ts';
import type { PollController } from './poll-controller.ts';
import { parseRoute, takeToken, viewHref, type Route } from './session.ts';
import { tokens } from './theme.ts';
import './crest-lang-toggle.ts';

/**
 * Each route's view, fetched on demand: a page downloads its own view and not the other three (the
 * operator's chart library alone is a third of the client). client/build.mjs measures each page's
 * first load from the same split.
 */
const ROOMS_POLL_MS = 2_000;
/** Connector states change on reconnects and stream ends, not every second: a slower poll is plenty. */
const CONNECTOR_POLL_MS = 3_000;

type ConnectorShown = ConnectorState & { stale: boolean };

const VIEWS = {
  rooms: () => import('./crest-room-list.ts'),
  operator: () => import('./crest-operator-panel.ts'),
  host: () => import('./crest-host-cue.ts'),
  buyer: () => import('./crest-buyer-feed.ts'),
};

export class CrestApp extends LitElement {
  static override properties = {
    i18n: { state: true },
    now: { state: true },
    loaded: { state: true },
  };
  /** Set once the reader's language is loaded (nothing renders before). */
  declare i18n: I18n;
  /** Event time now (see ConnectionController.now), refreshed every second for countdowns and expiry. */
  declare now: number;
  /** false until the route's code and language are in; an Error if they could not be fetched. */
  declare loaded: boolean | Error;

  private readonly route: Route;
  private readonly token: string | null;
  private readonly currency: string;
  private readonly transparent: boolean;
  private conn: ConnectionController | null = null;
  private roomsCtl: PollController<readonly RoomSummary[]> | null = null;
  /** The operator room's platform connector (null: the room has none, or this token may not see it). */
  private connectorCtl: PollController<ConnectorShown | null> | null = null;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.route = parseRoute(location.pathname);
    this.token = takeToken();
    const query = new URLSearchParams(location.search);
    this.currency = currencyFromUrl(location.search);
    this.transparent = this.route.view === 'host' && query.get('transparent') === '1';
    this.now = Date.now();
    this.loaded = false;
    this.addEventListener('crest-ack', (e) => this.conn?.ack((e as AckEvent).detail.id));
    this.addEventListener('crest-lang', (e) => void this.setLang((e as LangEvent).detail.lang));
  }

  static override styles = [
    tokens,
    css`
      :host {
        display: block;
      }
      .nf {
        padding: 40px 20px;
        text-align: center;
      }
      .nf crest-lang-toggle {
        margin-top: 16px;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.loaded === false) void this.load();
  }

  /** Fetches the route's view, its controller's code and the reader's language in parallel. */
  private async load(): Promise<void> {
    const r = this.route;
    const lang = initialLang();
    try {
      await Promise.all([
        loadLang(lang).then(() => this.useLang(lang)),
        r.view === 'not-found' ? null : VIEWS[r.view](),
        r.view === 'rooms'
          ? import('./poll-controller.ts').then((m) => {
              const pick = (b: unknown) => (b as { rooms?: RoomSummary[] }).rooms;
              this.roomsCtl = new m.PollController(this, this.token, '/api/v1/rooms', pick, [], ROOMS_POLL_MS);
            })
          : r.view === 'not-found'
            ? null
            : import('./connection-controller.ts').then((m) => {
                this.conn = new m.ConnectionController(this, r.room, this.token);
                this.ticker = setInterval(() => (this.now = this.conn!.now()), 1000);
              }),
        r.view === 'operator'
          ? import('./poll-controller.ts').then((m) => {
              // The API answers only the rooms this token grants; the panel shows this room's one, if any.
              const pick = (b: unknown) => (b as Partial<ConnectorsResponse>).connectors?.find((c) => c.room === r.room) ?? null;
              this.connectorCtl = new m.PollController(this, this.token, '/api/v1/connectors', pick, null, CONNECTOR_POLL_MS);
            })
          : null,
      ]);
      this.loaded = true;
    } catch (err) {
      this.loaded = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** New data (a tick, a cue) must not wait up to a second for the clock: read it before each render. */
  override willUpdate(): void {
    if (this.conn) this.now = this.conn.now();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.ticker);
  }

  override render() {
    const { i18n, route, conn } = this;
    if (this.loaded === false) return nothing;
    if (this.loaded instanceof Error) {
      // The texts themselves may be what failed to load: say it in English.
      return html`<div class="nf" role="alert">Crest could not load this page: ${this.loaded.message}. Reload to try again.</div>`;
    }
    const room = conn?.room;
    const now = this.now;
    switch (route.view) {
      case 'rooms': {
        const ctl = this.roomsCtl!;
        return html`<crest-room-list
          .rooms=${ctl.data}
          .state=${ctl.state}
          .error=${ctl.error}
          .token=${this.token}
          .i18n=${i18n}
        ></crest-room-list>`;
      }
      case 'operator':
        return html`<crest-operator-panel
          .roomId=${route.room}
          .room=${room!}
          .ackStatus=${conn!.ackStatus}
          .state=${conn!.state}
          .error=${conn!.error}
          .token=${this.token}
          .connector=${this.connectorCtl?.data ?? null}
          .i18n=${i18n}
        ></crest-operator-panel>`;
      case 'host':
        return html`<crest-host-cue
          .suggestions=${room!.suggestions}
          .metrics=${room!.metrics}
          .now=${now}
          ?transparent=${this.transparent}
          .state=${conn!.state}
          .error=${conn!.error}
          .i18n=${i18n}
        ></crest-host-cue>`;
      case 'buyer':
        return html`<crest-buyer-feed
          .roomId=${route.room}
          .suggestions=${room!.suggestions}
          .acks=${room!.acks}
          .ackStatus=${conn!.ackStatus}
          .metrics=${room!.metrics}
          .now=${now}
          .state=${conn!.state}
          .error=${conn!.error}
          .token=${this.token}
          .i18n=${i18n}
        ></crest-buyer-feed>`;
      default:
        return html`<div class="nf">
          <h1>${i18n.t('notFound.title')}</h1>
          <a href=${viewHref('/', this.token)}>${i18n.t('notFound.back')}</a>
          <div><crest-lang-toggle .i18n=${i18n}></crest-lang-toggle></div>
        </div>`;
    }
  }

  private async setLang(lang: Lang): Promise<void> {
    if (lang === this.i18n.lang) return;
    try {
      await loadLang(lang);
    } catch (err) {
      // The table could not be fetched (offline): stay in the language on screen; the toggle can be tried again.
      console.warn(`could not load the ${lang} texts`, err);
      return;
    }
    saveLang(lang);
    this.useLang(lang);
  }

  private useLang(lang: Lang): void {
    this.i18n = createI18n(lang, this.currency);
    this.applyDocument();
  }

  /** Page-level state the shadow DOM cannot set: <html lang>, the title, the OBS transparent background. */
  private applyDocument(): void {
    const root = document.documentElement;
    root.lang = this.i18n.lang;
    root.toggleAttribute('data-transparent', this.transparent);
    const r = this.route;
    const view =
      r.view === 'operator' ? 'nav.operator' : r.view === 'host' ? 'nav.host' : r.view === 'buyer' ? 'nav.buyer' : 'rooms.title';
    document.title = `${'room' in r ? `${r.room} · ` : ''}${this.i18n.t(view)} · Crest`;
  }
}
customElements.define('crest-app', CrestApp);

declare global {
  interface HTMLElementTagNameMap {
    'crest-app': CrestApp;
  }
}
