/**
 * The room's webhook deliveries that gave up (the dead-letter list): what was not delivered, why, after
 * how many attempts, and a one-click replay (same delivery id, so a receiver that did get it can drop the
 * repeat). Polls `GET /api/v1/webhooks/dead-letters?room=` with the panel's token; a replay is
 * `POST …/:id/replay`, after which the list is fetched again.
 */
import { LitElement, css, html } from 'lit';
import type { DeadLetter } from '../workers/alert-worker.ts';
import type { I18n } from './i18n.ts';
import { PollController } from './poll-controller.ts';
import { cardBody, shared, tokens } from './theme.ts';

/** Dead letters appear minutes after the fact (after every retry): a slow poll is enough. */
const POLL_MS = 10_000;

export class CrestDeadLetters extends LitElement {
  static override properties = {
    roomId: { attribute: 'room-id' },
    token: {},
    i18n: { attribute: false },
    replaying: { state: true },
  };
  declare roomId: string;
  declare token: string | null;
  declare i18n: I18n;
  /** Per dead-letter id: 'pending' while its replay is in flight, else the error code it failed with. */
  declare replaying: ReadonlyMap<string, string>;

  private poller: PollController<readonly DeadLetter[]> | null = null;

  constructor() {
    super();
    this.roomId = '';
    this.token = null;
    this.replaying = new Map();
  }

  static override styles = [
    tokens,
    shared,
    cardBody,
    css`
      ul {
        list-style: none;
        margin: 8px 0 0;
        padding: 0;
      }
      li {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 2px 10px;
        padding: 8px 0;
        border-top: 1px solid var(--c-border);
        font-size: 13px;
      }
      li button {
        grid-row: span 2;
        align-self: center;
      }
      .why {
        color: var(--c-stop);
        overflow-wrap: anywhere;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    // Created once the room and token are set (the panel renders this element with both).
    this.poller ??= new PollController(
      this,
      this.token,
      `/api/v1/webhooks/dead-letters?room=${encodeURIComponent(this.roomId)}`,
      (b) => (b as { deadLetters?: DeadLetter[] }).deadLetters,
      [],
      POLL_MS,
    );
  }

  override render() {
    const { i18n } = this;
    const list = this.poller?.data ?? [];
    const failed = this.poller?.state === 'error';
    // "None" only once the server has said so; before that (or while it fails) the list is unknown.
    const known = !!this.poller?.fetchedAt;
    return html`<h2>${i18n.t('dl.title')}</h2>
      ${list.length === 0
        ? html`<p class="muted" data-testid=${known ? 'dead-letters-empty' : 'dead-letters-unknown'}>
            ${failed ? i18n.error(this.poller!.error ?? 'error') : known ? i18n.t('dl.empty') : i18n.t('conn.connecting')}
          </p>`
        : html`<ul>
            ${list.map((d) => {
              const status = this.replaying.get(d.id);
              return html`<li data-testid="dead-letter" data-id=${d.id} data-kind=${d.kind}>
                <span><strong>${i18n.kind(d.kind)}</strong> <span class="muted num">${i18n.time(d.at)} · ${i18n.t('dl.attempts', { n: d.attempts })}</span></span>
                <button data-testid="dead-letter-replay" ?disabled=${status === 'pending'} @click=${() => void this.replay(d.id)}>
                  ${i18n.t('dl.replay')}
                </button>
                <span class="why" data-testid="dead-letter-reason">${d.reason}${status && status !== 'pending'
                  ? html` · ${i18n.t('dl.failed', { reason: i18n.error(status) })}`
                  : null}</span>
              </li>`;
            })}
          </ul>`}`;
  }

  private async replay(id: string): Promise<void> {
    this.setReplaying(id, 'pending');
    let outcome: string | null;
    try {
      const res = await fetch(`/api/v1/webhooks/dead-letters/${encodeURIComponent(id)}/replay`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.token}` },
      });
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
      outcome = res.ok ? null : (body?.error?.code ?? `http-${res.status}`);
    } catch {
      // The request never got an answer: say so on the row; the button stays for another try.
      outcome = 'offline';
    }
    this.setReplaying(id, outcome);
    this.poller?.refresh();
  }

  private setReplaying(id: string, status: string | null): void {
    const next = new Map(this.replaying);
    if (status === null) next.delete(id);
    else next.set(id, status);
    this.replaying = next;
  }
}
customElements.define('crest-dead-letters', CrestDeadLetters);

declare global {
  interface HTMLElementTagNameMap {
    'crest-dead-letters': CrestDeadLetters;
  }
}
