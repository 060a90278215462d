/**
 * Where a request body already holds an event exactly as it would be stored, its text is stored as it is:
 * ingest then needs no JSON.stringify per event (~0.5 µs each; ~0.15 µs for this check instead).
 *
 * A text is taken only when JSON.stringify(JSON.parse(text)) provably gives it back unchanged: a flat object
 * of string and number members, written with no whitespace; keys of ASCII letters, digits and _ not starting
 * with a digit (an array-index key would be moved to the front), each once (JSON.parse keeps the last of a
 * repeated key at the first one's place: checked by length, below); strings with no escape at all, no control
 * character and no lone surrogate (JSON.stringify escapes those); numbers that are plain integers of at most
 * 15 digits (exact in a double, and written back with the same digits: no 1e3, 1.0, -0). Anything else is left
 * to JSON.stringify. core/canonical-json.test.ts checks the round trip on random texts.
 */

const STRING = '"(?:[^"\\\\\\u0000-\\u001f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*"';
const KEY = '"[A-Za-z_][A-Za-z0-9_]*"';
const VALUE = `(?:${STRING}|0|[1-9][0-9]{0,14})`;
/** Sticky: matches at lastIndex only. One native scan instead of a JavaScript loop over the characters. */
const OBJECT = new RegExp(`\\{(?:${KEY}:${VALUE}(?:,${KEY}:${VALUE})*)?\\}`, 'y');

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The length JSON.stringify would write for `o`, a parsed object whose text OBJECT matched (so its values are
 * strings needing no escape and integers below 1e15). A key given twice in the text makes the text longer than
 * this by the members JSON.parse dropped, so equal lengths mean no repeated key.
 */
function stringifiedLength(o: object): number {
  let n = 1;
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    n += k.length + 4; // quotes, colon, and the comma or closing brace after the member
    if (typeof v === 'string') n += v.length + 2;
    else if (typeof v === 'number') {
      let digits = 1;
      while (digits < POW10.length && v >= POW10[digits]!) digits++;
      n += digits;
    } else return -1;
  }
  return n === 1 ? 2 : n;
}

/** If the text at `start` is the canonical form of `item` (its parse), the index just after it; else -1. */
function canonicalEnd(text: string, start: number, item: unknown): number {
  if (typeof item !== 'object' || item === null) return -1;
  OBJECT.lastIndex = start;
  if (!OBJECT.test(text)) return -1;
  const end = OBJECT.lastIndex;
  return stringifiedLength(item) === end - start ? end : -1;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * For `text`, which JSON.parse read as the array `items`, each element's own text where it is canonical (see
 * above), else undefined. From the first element that is not on, every later one is undefined too: finding its
 * end would mean parsing the JSON a second time, and clients that send canonical events send them all that way.
 */
export function canonicalElements(text: string, items: readonly unknown[]): (string | undefined)[] {
  const out = new Array<string | undefined>(items.length).fill(undefined);
  let i = 0;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x5b) return out;
  i++;
  for (let k = 0; k < items.length; k++) {
    while (isSpace(text.charCodeAt(i))) i++;
    const end = canonicalEnd(text, i, items[k]);
    if (end < 0) return out;
    out[k] = text.slice(i, end);
    i = end;
    while (isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x2c) i++;
  }
  return out;
}

/** `text` itself when the whole of it is the canonical form of `item` (its parse), else undefined. */
export function canonicalObject(text: string, item: unknown): string | undefined {
  return canonicalEnd(text, 0, item) === text.length ? text : undefined;
}
