/** EN / 中文 switch. Emits `crest-lang` with the chosen language; the app applies and saves it. */
import { LitElement, css, html } from 'lit';
import type { I18n, Lang } from './i18n.ts';
import { tokens } from './theme.ts';

export type LangEvent = CustomEvent<{ lang: Lang }>;

export class CrestLangToggle extends LitElement {
  static override properties = { i18n: { attribute: false } };
  declare i18n: I18n;

  static override styles = [
    tokens,
    css`
      :host {
        color: inherit;
      }
      button {
        font: inherit;
        font-size: 13px;
        font-weight: 600;
        min-height: 32px;
        min-width: 48px;
        padding: 4px 10px;
        border-radius: 8px;
        border: 1px solid currentColor;
        background: transparent;
        color: inherit;
        cursor: pointer;
        opacity: 0.85;
      }
      button:hover {
        opacity: 1;
      }
      span {
        opacity: 0.55;
        font-weight: 500;
      }
      span.on {
        opacity: 1;
        font-weight: 700;
      }
      i {
        font-style: normal;
        opacity: 0.4;
        margin: 0 4px;
      }
      button:focus-visible {
        outline: 2px solid var(--c-accent);
        outline-offset: 2px;
      }
    `,
  ];

  override render() {
    const next: Lang = this.i18n.lang === 'en' ? 'zh-CN' : 'en';
    return html`<button
      data-testid="lang-toggle"
      data-lang=${this.i18n.lang}
      aria-label=${this.i18n.t('lang.label')}
      @click=${() => this.choose(next)}
    >
      <span class=${next === 'en' ? '' : 'on'}>EN</span><i>/</i><span lang="zh-CN" class=${next === 'en' ? 'on' : ''}>中文</span>
    </button>`;
  }

  private choose(lang: Lang): void {
    this.dispatchEvent(new CustomEvent('crest-lang', { detail: { lang }, bubbles: true, composed: true }));
  }
}
customElements.define('crest-lang-toggle', CrestLangToggle);

declare global {
  interface HTMLElementTagNameMap {
    'crest-lang-toggle': CrestLangToggle;
  }
}
