/**
 * Where a request body already holds an event exactly as it would be stored, its text is stored as it is:
 * ingest then needs no JSON.stringify per event (~0.5-1 µs each, a few % of the API thread at full load).
 *
 * `canonicalObjectEnd` accepts only what it can prove JSON.stringify(JSON.parse(text)) gives back unchanged:
 * a flat object of string and number members, written with no whitespace, keys that are not array indexes
 * (those JSON.stringify would move to the front) and appear once (JSON.parse keeps the last of a repeated key
 * at the first one's place), strings with no escape at all and no lone surrogate (JSON.stringify escapes
 * those), and numbers that are plain integers of at most 15 digits (exact in a double, and written back with
 * the same digits: no 1e3, 1.0, -0 or leading zero). Anything else answers "not canonical", and the caller
 * stringifies as before. core/canonical-json.test.ts checks the round trip on random texts.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;
const MAX_DIGITS = 15;

/** End of the string whose opening quote is at `i` (the index after its closing quote), or -1 if not canonical. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH || c < 0x20) return -1;
    if (c >= 0xd800 && c <= 0xdfff) {
      // Only a high surrogate followed by a low one is written back as it is.
      const d = text.charCodeAt(j + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return -1;
      j++;
    }
  }
  return -1;
}

/**
 * If a canonical flat object starts at `start`, the index just after its closing brace; else -1. The text
 * must be valid JSON there (the caller has parsed it): this only decides canonical form.
 */
export function canonicalObjectEnd(text: string, start: number): number {
  if (text.charCodeAt(start) !== OPEN) return -1;
  let i = start + 1;
  if (text.charCodeAt(i) === CLOSE) return i + 1;
  const keys: string[] = [];
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return -1;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return -1;
    const first = text.charCodeAt(i + 1);
    if (first >= ZERO && first <= NINE) return -1; // could be an array index
    const key = text.slice(i + 1, keyEnd - 1);
    if (keys.includes(key)) return -1;
    keys.push(key);
    i = keyEnd;
    if (text.charCodeAt(i) !== COLON) return -1;
    i++;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return -1;
    } else if (c >= ZERO && c <= NINE) {
      const from = i;
      i++;
      if (c !== ZERO) while (text.charCodeAt(i) >= ZERO && text.charCodeAt(i) <= NINE) i++;
      if (i - from > MAX_DIGITS) return -1;
    } else return -1;
    const after = text.charCodeAt(i);
    if (after === CLOSE) return i + 1;
    if (after !== COMMA) return -1; // whitespace, or a fraction or exponent after the digits
    i++;
  }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * For `text`, which JSON.parse read as an array, each element's own text where it is canonical (see above),
 * else undefined. From the first element that is not a canonical object on, every later one is undefined too:
 * finding its end would mean parsing the JSON a second time, and clients that send canonical events send
 * them all that way.
 */
export function canonicalElements(text: string, count: number): (string | undefined)[] {
  const out: (string | undefined)[] = new Array<string | undefined>(count).fill(undefined);
  let i = 0;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x5b) return out;
  i++;
  for (let k = 0; k < count; k++) {
    while (isSpace(text.charCodeAt(i))) i++;
    const end = canonicalObjectEnd(text, i);
    if (end < 0) return out;
    out[k] = text.slice(i, end);
    i = end;
    while (isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === COMMA) i++;
  }
  return out;
}

/** `text` itself when the whole of it is one canonical object, else undefined. */
export function canonicalObject(text: string): string | undefined {
  return canonicalObjectEnd(text, 0) === text.length ? text : undefined;
}
