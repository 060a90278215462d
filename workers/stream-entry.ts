/**
 * Reading entries of a shard event stream (crest:{sN}:ev): their ids and fields. Shared by the workers that
 * read those streams (detector, archiver, recorder); ids and fields also by the gateway and alert worker.
 */
import { parseEvent, type CrestEvent } from '../core/events.ts';

/**
 * A room with no event for this long (arrival time) stops being advanced by the shard's clock records. The
 * detector applies it and the archiver must apply the same rule to know which rooms a clock record moved.
 */
export const ROOM_IDLE_MS = 30 * 60_000;

/** Orders two stream ids (`<ms>-<seq>`) numerically: negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  // Same length, same place of the dash: the digits compare as text (the detector calls this per entry).
  if (a.length === b.length && a.indexOf('-') === b.indexOf('-')) return a < b ? -1 : 1;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma - mb;
  return Number(a.slice(da + 1)) - Number(b.slice(db + 1));
}

export const maxId = (a: string, b: string): string => (compareIds(a, b) >= 0 ? a : b);

/** The ms part of a stream id: when Redis appended the entry (arrival time). */
export const idMs = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** A field of a flat [name, value, …] list: an entry's fields, or an XINFO reply. */
export function fieldOf<T>(fields: readonly T[], name: string): T | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The event an `e` field holds, validated again as read back (null when it is not one). */
export function eventOf(json: string): CrestEvent | null {
  try {
    const r = parseEvent(JSON.parse(json));
    return r.ok ? r.event : null;
  } catch {
    return null;
  }
}
