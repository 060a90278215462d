/** The acknowledge control shared by the suggestion log and the buyer feed: button, pending, done, failed. */
import { html, type TemplateResult } from 'lit';
import type { Ack } from '../core/protocol.ts';
import type { AckStatus } from './connection-controller.ts';
import type { I18n } from './i18n.ts';

export type AckEvent = CustomEvent<{ id: string }>;

/** Asks the app to acknowledge a suggestion; bubbles out of shadow roots. */
export function ackEvent(id: string): AckEvent {
  return new CustomEvent('crest-ack', { detail: { id }, bubbles: true, composed: true });
}

export function renderAck(
  i18n: I18n,
  ack: Ack | undefined,
  status: AckStatus | undefined,
  onAck: () => void,
): TemplateResult {
  if (ack) {
    return html`<span class="acked" data-testid="ack-by"
      >✓ ${i18n.t('log.ackedBy', { by: ack.by, at: i18n.time(ack.at) })}</span
    >`;
  }
  const pending = status === 'pending';
  return html`<button data-testid="ack-button" ?disabled=${pending} @click=${onAck}>
      ${pending ? i18n.t('log.acking') : i18n.t('log.ack')}</button
    >${status && !pending
      ? html`<span class="ack-error" role="alert">${i18n.t('log.ackFailed', { reason: i18n.error(status) })}</span>`
      : null}`;
}
