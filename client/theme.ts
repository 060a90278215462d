/** Design tokens and the few rules every view shares (cards, buttons, tags). */
import { css } from 'lit';

export const tokens = css`
  :host {
    --c-bg: #f4f5f7;
    --c-surface: #fff;
    --c-text: #111827;
    --c-muted: #6b7280;
    --c-faint: #9ca3af;
    --c-border: #e5e7eb;
    --c-accent: #2563eb;
    --c-rising: #d97706;
    --c-peak: #dc2626;
    --c-ended: #9ca3af;
    --c-go: #15803d;
    --c-stop: #b91c1c;
    --c-aud-operator: #7c3aed;
    --c-aud-host: #0e7490;
    --c-aud-buyer: #15803d;
    --radius: 10px;
    font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'PingFang SC', 'Hiragino Sans GB',
      'Microsoft YaHei', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif;
    color: var(--c-text);
    -webkit-font-smoothing: antialiased;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
`;

/** The frame of a full-page view: page background, the top bar and its title. */
const pageFrame = css`
  :host {
    display: block;
    min-height: 100vh;
    background: var(--c-bg);
  }
  header {
    display: flex;
    align-items: center;
    gap: 8px 14px;
    flex-wrap: wrap;
    padding: 10px 16px;
    background: var(--c-surface);
    border-bottom: 1px solid var(--c-border);
  }
  h1 {
    margin: 0;
    font-size: 18px;
    flex: 1 1 auto;
    min-width: 0;
  }
  h1 a {
    color: var(--c-muted);
    font-weight: 500;
    font-size: 14px;
    text-decoration: none;
  }
`;

export const shared = css`
  .card {
    background: var(--c-surface);
    border: 1px solid var(--c-border);
    border-radius: var(--radius);
  }
  h2 {
    font-size: 14px;
    font-weight: 600;
    margin: 0;
    color: var(--c-muted);
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  :lang(zh-CN) h2 {
    text-transform: none;
    letter-spacing: 0;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 8px;
    border: 1px solid var(--c-border);
    background: var(--c-surface);
    color: var(--c-text);
    padding: 6px 12px;
    min-height: 32px;
  }
  button:hover:not(:disabled) {
    border-color: var(--c-accent);
    color: var(--c-accent);
  }
  button:disabled {
    cursor: default;
    opacity: 0.6;
  }
  button:focus-visible,
  a:focus-visible {
    outline: 2px solid var(--c-accent);
    outline-offset: 2px;
  }
  .tag {
    display: inline-block;
    font-size: 12px;
    line-height: 18px;
    padding: 0 7px;
    border-radius: 9px;
    white-space: nowrap;
    font-weight: 600;
    color: #fff;
    background: var(--c-muted);
  }
  .tag.rising {
    background: var(--c-rising);
  }
  .tag.building {
    background: transparent;
    color: var(--c-rising);
    box-shadow: inset 0 0 0 1.5px var(--c-rising);
  }
  .tag.retracted {
    text-decoration: line-through;
  }
  .tag.peak {
    background: var(--c-peak);
  }
  .tag.ended {
    background: var(--c-ended);
  }
  .muted {
    color: var(--c-muted);
  }
  .num {
    font-variant-numeric: tabular-nums;
  }
`;

/** The body of a card that holds one list or table: it may shrink in the grid and scroll its table sideways. */
export const cardBody = css`
  :host {
    display: block;
    padding: 12px;
    min-width: 0;
  }
  .scroll {
    overflow-x: auto;
  }
  p {
    margin: 8px 0 0;
    font-size: 13px;
  }
`;

/** A compact figures table: muted headings, a rule between rows, no wrapping (the card scrolls instead). */
const dataTable = css`
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 13px;
  }
  th {
    font-weight: 500;
    color: var(--c-muted);
    font-size: 12px;
    white-space: nowrap;
  }
  td {
    border-top: 1px solid var(--c-border);
    white-space: nowrap;
  }
`;

/** A status pill: a coloured dot before a word (the dot's colour is the component's). */
export const statusDot = css`
  :host {
    display: inline-flex;
    min-width: 0;
  }
  span {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    min-width: 0;
  }
  i {
    flex: none;
    width: 9px;
    height: 9px;
    border-radius: 50%;
    background: var(--c-faint);
  }
`;

/** What a full-page view's styles start from (the room list, the operator panel, the buyer feed). */
export const pageStyles = [tokens, shared, pageFrame];

/** What the styles of a card holding one figures table start from. */
export const tableCardStyles = [tokens, shared, cardBody, dataTable];
