/**
 * The operator's plan: the room's planned moments with edit and delete, a form to add or edit one, and an
 * import box for CSV or JSON that lists every row's error. Plans come in as a property (the socket pushes
 * `plan:update`); writes go to the plans API with the panel's token, and the change comes back by push.
 */
import { LitElement, css, html } from 'lit';
import type { PlannedMoment } from '../core/protocol.ts';
import type { I18n } from './i18n.ts';
import { shared, tokens } from './theme.ts';

interface ApiError {
  error?: { field?: string; reason: string };
  errors?: { row: number; field: string; reason: string }[];
}

/** Form inputs: name and type; the first two (`at`, `sku`) are required. */
const FIELDS = [['at', 'datetime-local'], ['sku', 'text'], ['name', 'text'], ['welfare', 'text'], ['leadMin', 'number'], ['budget', 'number']] as const;
const LABELS: Record<string, 'plans.sku' | 'plans.name' | 'plans.welfare' | 'plans.budget'> = {
  sku: 'plans.sku',
  name: 'plans.name',
  welfare: 'plans.welfare',
  budget: 'plans.budget',
};

/** ms → the value of a datetime-local input, in local time. */
const localInput = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export class CrestPlanEditor extends LitElement {
  static override properties = {
    roomId: {},
    token: {},
    plans: { attribute: false },
    i18n: { attribute: false },
    editing: { state: true },
    errors: { state: true },
  };
  declare roomId: string;
  declare token: string | null;
  declare plans: readonly PlannedMoment[];
  declare i18n: I18n;
  /** The plan in the form (null: adding a new one). */
  declare editing: PlannedMoment | null;
  declare errors: string[];

  constructor() {
    super();
    this.roomId = '';
    this.token = null;
    this.plans = [];
    this.editing = null;
    this.errors = [];
  }

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: block;
        padding: 10px 12px;
      }
      li span {
        margin-right: 8px;
      }
      input,
      textarea {
        font: inherit;
        margin: 2px;
      }
      .err {
        color: var(--c-stop);
      }
    `,
  ];

  override render() {
    const { i18n } = this;
    const e = this.editing;
    const v: Record<string, string> = e
      ? { at: localInput(e.at), sku: e.sku, name: e.name ?? '', welfare: e.welfare ?? '', leadMin: String(e.leadMin), budget: e.budget === null ? '' : String(e.budget / 100) }
      : { leadMin: '10' };
    // prettier-ignore
    return html`<h2>${i18n.t('plans.title')}</h2><ul>${this.plans.map((p) => html`<li data-testid="plan-row"><span>${i18n.time(p.at, false)} · ${p.name ?? p.sku} · ${i18n.t('plans.leadMin', { n: p.leadMin })}${p.budget === null ? '' : ` · ${i18n.money(p.budget, true)}`}${p.welfare ? ` · ${p.welfare}` : ''}</span><button @click=${() => (this.editing = e === p ? null : p)}>${i18n.t('plans.edit')}</button><button @click=${() => this.send('DELETE', `/${p.id}`)}>${i18n.t('plans.delete')}</button></li>`)}</ul><form @submit=${this.submit}>${FIELDS.map(([n, type], i) => html`<input name=${n} type=${type} step="any" ?required=${i < 2} placeholder=${n in LABELS ? i18n.t(LABELS[n]!) : ''} .value=${v[n] ?? ''}>`)}<button>${e ? '✓' : '+'}</button></form><textarea rows="3" placeholder="at,sku,name,welfare,leadMin,budget"></textarea><button @click=${this.import}>${i18n.t('plans.import')}</button>${this.errors.map((x) => html`<div class="err" role="alert" data-testid="plan-error">${x}</div>`)}`;
  }

  private submit(ev: Event): void {
    ev.preventDefault();
    const e = this.editing;
    const f = Object.fromEntries(new FormData(ev.target as HTMLFormElement)) as Record<string, string>;
    const body = {
      at: new Date(f.at!).getTime(),
      sku: f.sku,
      name: f.name || null,
      welfare: f.welfare || null,
      leadMin: Number(f.leadMin || 10),
      // The form takes major units (yuan); the API minor units (fen).
      budget: f.budget ? Math.round(Number(f.budget) * 100) : null,
      version: e?.version,
    };
    void this.send(e ? 'PUT' : 'POST', e ? `/${e.id}` : '', JSON.stringify(body));
  }

  private import(): void {
    const text = this.renderRoot.querySelector('textarea')!.value.trim();
    void this.send('POST', '/import', text, text[0] === '[' ? 'application/json' : 'text/csv');
  }

  /** One plans API call; errors (a field, or every row of an import) are shown under the form. */
  private async send(method: string, path: string, body?: string, type = 'application/json'): Promise<void> {
    const res = await fetch(`/api/v1/rooms/${encodeURIComponent(this.roomId)}/plans${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': type },
    }).catch((err: Error) => err);
    if (res instanceof Error || !res.ok) {
      const b = res instanceof Error ? {} : ((await res.json().catch(() => ({}))) as ApiError);
      this.errors = b.errors?.map((x) => `#${x.row} ${x.field}: ${x.reason}`) ?? [
        b.error ? `${b.error.field ?? ''} ${b.error.reason}` : String(res instanceof Error ? res.message : res.status),
      ];
      return;
    }
    this.errors = [];
    this.editing = null;
  }
}
customElements.define('crest-plan-editor', CrestPlanEditor);

declare global {
  interface HTMLElementTagNameMap {
    'crest-plan-editor': CrestPlanEditor;
  }
}
