/**
 * The router and the only owner of side effects: it reads the route and token once, hosts the
 * controller that talks to the server (socket for a room view, polling for the room list), keeps the
 * language and a one-second clock, and hands everything down as properties. Views answer with events:
 * `crest-ack` (acknowledge a suggestion) and `crest-lang` (switch language).
 */
import { LitElement, css, html } from 'lit';
import type { AckEvent } from './ack-view.ts';
import { ConnectionController } from './connection-controller.ts';
import type { LangEvent } from './crest-lang-toggle.ts';
import { createI18n, currencyFromUrl, initialLang, saveLang, type I18n, type Lang } from './i18n.ts';
import { RoomsController } from './rooms-controller.ts';
import { parseRoute, takeToken, viewHref, type Route } from './session.ts';
import { tokens } from './theme.ts';
import './crest-buyer-feed.ts';
import './crest-host-cue.ts';
import './crest-lang-toggle.ts';
import './crest-operator-panel.ts';
import './crest-room-list.ts';

export class CrestApp extends LitElement {
  static override properties = {
    i18n: { state: true },
    now: { state: true },
  };
  declare i18n: I18n;
  /** Event time now (see ConnectionController.now), refreshed every second for countdowns and expiry. */
  declare now: number;

  private readonly route: Route;
  private readonly token: string | null;
  private readonly currency: string;
  private readonly transparent: boolean;
  private readonly conn: ConnectionController | null = null;
  private readonly roomsCtl: RoomsController | null = null;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.route = parseRoute(location.pathname);
    this.token = takeToken();
    const query = new URLSearchParams(location.search);
    this.currency = currencyFromUrl(location.search);
    this.transparent = this.route.view === 'host' && query.get('transparent') === '1';
    this.i18n = createI18n(initialLang(), this.currency);
    this.now = Date.now();
    if (this.route.view === 'rooms') this.roomsCtl = new RoomsController(this, this.token);
    else if (this.route.view !== 'not-found') this.conn = new ConnectionController(this, this.route.room, this.token);
    this.addEventListener('crest-ack', (e) => this.conn?.ack((e as AckEvent).detail.id));
    this.addEventListener('crest-lang', (e) => this.setLang((e as LangEvent).detail.lang));
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
    this.applyDocument();
    if (this.conn) this.ticker = setInterval(() => (this.now = this.conn!.now()), 1000);
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
    const room = conn?.room;
    const now = this.now;
    switch (route.view) {
      case 'rooms': {
        const ctl = this.roomsCtl!;
        return html`<crest-room-list
          .rooms=${ctl.rooms}
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

  private setLang(lang: Lang): void {
    if (lang === this.i18n.lang) return;
    saveLang(lang);
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
