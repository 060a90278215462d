/**
 * TikTok LIVE → contract v1, as pure functions: one decoded platform message in, the events it means
 * out. No clock (the caller passes `now`), no I/O, no import of the (AGPL-3.0, optional) package: the
 * payload shapes below are the decoded protobuf messages `tiktok-live-connector` 2.x emits
 * (`tiktok-live-proto/v3`: int64 fields arrive as decimal strings), declared here structurally and
 * read defensively, since they are untrusted input.
 *
 * Idempotency: every event id is derived from the platform's own message id (`common.msgId`), so the
 * recent-history batch TikTok resends after a reconnect maps to the same ids and ingest drops them.
 */
import { createHash } from 'node:crypto';
import type { CrestEvent, TrafficSource } from '../../core/events.ts';
import { TRAFFIC_SOURCES } from '../../core/events.ts';

/** The package's event names (WebcastEvent values) this mapping handles. */
export const TIKTOK_MAPPED_EVENTS = [
  'member',
  'roomUser',
  'like',
  'chat',
  'gift',
  'social',
  'follow',
  'share',
  'oecLiveShopping',
  'controlMessage',
] as const;
export type TikTokMappedEvent = (typeof TIKTOK_MAPPED_EVENTS)[number];

// ---- payload shapes (the fields we read, all optional: nothing from the platform is trusted) ----
export interface TikTokCommon {
  method?: string;
  msgId?: string;
  roomId?: string;
  /** ms since epoch, as a decimal string. */
  createTime?: string;
  displayText?: { key?: string };
}
export interface TikTokUser {
  id?: string;
  idStr?: string;
  displayId?: string;
  secUid?: string;
  nickname?: string;
}
interface WithCommon {
  common?: TikTokCommon;
}
export interface TikTokMemberMessage extends WithCommon {
  user?: TikTokUser;
  /** MemberMessageAction: 1 joined, 3 subscribed. */
  action?: number;
  clientEnterSource?: string;
  clientLiveReason?: string;
}
export interface TikTokRoomUserSeqMessage extends WithCommon {
  /** Current viewers, decimal string. */
  total?: string;
}
export interface TikTokLikeMessage extends WithCommon {
  user?: TikTokUser;
  count?: number;
}
export interface TikTokChatMessage extends WithCommon {
  user?: TikTokUser;
  content?: string;
}
export interface TikTokGiftMessage extends WithCommon {
  user?: TikTokUser;
  giftId?: string;
  repeatCount?: number;
  /** 1 on the message that closes a streak. */
  repeatEnd?: number;
  /** Gift details; `type` 1 = streakable (the package README's `giftType`). */
  gift?: { id?: string; type?: number; name?: string; diamondCount?: number };
}
export interface TikTokSocialMessage extends WithCommon {
  user?: TikTokUser;
}
export interface TikTokOecLiveShoppingMessage extends WithCommon {
  popProduct?: { productId?: string; title?: string; price?: string };
  productSnapShot?: { productId?: string; title?: string };
}
export interface TikTokControlMessage extends WithCommon {
  /** ControlAction: 3 stream ended, 4 stream suspended by the platform. */
  action?: number;
}

// ---- traffic source table ----

export interface SourceRule {
  pattern: string;
  source: TrafficSource;
}

/**
 * Built-in table, first match wins. TikTok does not document its enter-source values; these patterns
 * cover the names its clients report (`homepage_hot`, `homepage_follow`, `live_merge`, ...). Values no
 * rule matches become `other` and are counted in the connector state, so the table can grow: add rules
 * with CREST_TIKTOK_SOURCES (they are tried before these).
 */
export const DEFAULT_TIKTOK_SOURCE_RULES: readonly SourceRule[] = Object.freeze([
  // Paid first: a promoted placement inside the feed is paid traffic, whatever feed it sits in.
  ...['ad', 'ads', 'promot*', 'boost*', 'paid', 'sponsor*'].map((pattern) => ({ pattern, source: 'paid' as const })),
  ...['follow*', 'homepage_follow', 'push', 'inbox', 'subscri*'].map((pattern) => ({ pattern, source: 'follow' as const })),
  ...['homepage_hot', 'hot', 'foryou', 'fyp', 'feed', 'live_merge', 'live_square', 'search*', 'general_search', 'hashtag', 'discover*', 'explore', 'recommend*']
    .map((pattern) => ({ pattern, source: 'public' as const })),
  ...['others_homepage', 'personal_homepage', 'profile', 'share*', 'link', 'qr*', 'chat', 'message'].map((pattern) => ({ pattern, source: 'other' as const })),
]);

/**
 * Parses extra rules: `pattern=source` items separated by commas, e.g. `homepage_hot=public,live_ad=paid`.
 * Throws RangeError naming the bad item.
 */
export function parseSourceRules(text: string): SourceRule[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const eq = item.lastIndexOf('=');
      const pattern = eq > 0 ? item.slice(0, eq).trim().toLowerCase() : '';
      const source = eq > 0 ? item.slice(eq + 1).trim() : '';
      if (!pattern || !/^[a-z0-9_.\-*|/ ]+$/.test(pattern)) throw new RangeError(`"${item}": expected pattern=source, the pattern made of letters, digits, _ - . and *`);
      if (!(TRAFFIC_SOURCES as readonly string[]).includes(source)) throw new RangeError(`"${item}": source must be one of ${TRAFFIC_SOURCES.join(', ')}`);
      return { pattern, source: source as TrafficSource };
    });
}

export interface SourceMatch {
  source: TrafficSource;
  /** False when no rule matched (or the platform sent no value): counted so the table can grow. */
  known: boolean;
  /** The value looked at (`clientEnterSource`, else `clientLiveReason`), '' when both were empty. */
  value: string;
}

/**
 * Enter source → traffic source. A pattern matches where it stands as whole words in the value (words
 * are split by anything not a letter or digit), case-insensitively; `*` stands for more letters or
 * digits. So `ad` matches `live_ad` but not `head`, and `promot*` matches `promotion_card`.
 */
export class SourceTable {
  private readonly compiled: { re: RegExp; rule: SourceRule }[];

  constructor(rules: readonly SourceRule[] = DEFAULT_TIKTOK_SOURCE_RULES) {
    this.compiled = rules.map((rule) => {
      const body = rule.pattern
        .toLowerCase()
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
        .join('[a-z0-9]*');
      return { re: new RegExp(`(?:^|[^a-z0-9])${body}(?:[^a-z0-9]|$)`), rule };
    });
  }

  /** Extra rules first, then the built-in table. */
  static withExtraRules(extra: readonly SourceRule[]): SourceTable {
    return new SourceTable([...extra, ...DEFAULT_TIKTOK_SOURCE_RULES]);
  }

  classify(enterSource: string | undefined, liveReason: string | undefined): SourceMatch {
    const values = [enterSource, liveReason].map((v) => (typeof v === 'string' ? v.trim().toLowerCase() : '')).filter(Boolean);
    for (const value of values) {
      const hit = this.compiled.find((c) => c.re.test(value));
      if (hit) return { source: hit.rule.source, known: true, value };
    }
    return { source: 'other', known: false, value: values[0] ?? '' };
  }
}

// ---- mapping ----

/** The platform sent something this mapping cannot read: the connector logs and counts it. */
export class UnexpectedPayloadError extends Error {
  override name = 'UnexpectedPayloadError';
}

export interface MapContext {
  /** Crest room the events go to. */
  room: string;
  /** Wall clock, for messages without a usable create time. */
  now: number;
  sources: SourceTable;
  /** TikTok's id of the live session, when known (used for stream.start / stream.end ids). */
  platformRoomId?: string;
}

export type MapOutcome =
  | { kind: 'events'; events: CrestEvent[]; source?: SourceMatch }
  | { kind: 'skip'; reason: string };

const skip = (reason: string): MapOutcome => ({ kind: 'skip', reason });
const one = (event: CrestEvent, source?: SourceMatch): MapOutcome => ({ kind: 'events', events: [event], ...(source ? { source } : {}) });

/** Maps one message the package emitted under `event`; throws UnexpectedPayloadError on a shape it cannot read. */
export function mapTikTokMessage(event: TikTokMappedEvent, payload: unknown, ctx: MapContext): MapOutcome {
  if (typeof payload !== 'object' || payload === null) throw new UnexpectedPayloadError(`${event}: payload is ${payload === null ? 'null' : typeof payload}, not an object`);
  switch (event) {
    case 'member':
      return mapMember(payload as TikTokMemberMessage, ctx);
    case 'roomUser':
      return mapRoomUser(payload as TikTokRoomUserSeqMessage, ctx);
    case 'like': {
      const p = payload as TikTokLikeMessage;
      const count = p.count === undefined ? 1 : p.count;
      if (!Number.isInteger(count) || count < 0) throw new UnexpectedPayloadError(`like: count ${String(p.count)} is not a whole number`);
      return one({ ...base(p, ctx, 'engage.like'), type: 'engage.like', viewer: viewerOf(p.user, p), count: Math.max(1, count) });
    }
    case 'chat': {
      const p = payload as TikTokChatMessage;
      return one({ ...base(p, ctx, 'engage.comment'), type: 'engage.comment', viewer: viewerOf(p.user, p) });
    }
    case 'gift':
      return mapGift(payload as TikTokGiftMessage, ctx);
    case 'follow': {
      const p = payload as TikTokSocialMessage;
      return one({ ...base(p, ctx, 'engage.follow'), type: 'engage.follow', viewer: viewerOf(p.user, p) });
    }
    case 'share': {
      const p = payload as TikTokSocialMessage;
      return one({ ...base(p, ctx, 'engage.share'), type: 'engage.share', viewer: viewerOf(p.user, p) });
    }
    case 'social':
      // The package emits `follow` / `share` for those two (by the message's display-text key); what is
      // left under `social` is an action we have no contract type for.
      return skip(`social message with display key "${(payload as TikTokSocialMessage).common?.displayText?.key ?? ''}" is neither follow nor share`);
    case 'oecLiveShopping':
      return mapShopping(payload as TikTokOecLiveShoppingMessage, ctx);
    case 'controlMessage': {
      const p = payload as TikTokControlMessage;
      if (p.action !== 3 && p.action !== 4) return skip(`control action ${String(p.action)} is not a stream end`);
      const session = ctx.platformRoomId || nonZero(p.common?.roomId) || msgIdOf(p);
      return one({ id: `tt:end:${session}`.slice(0, 128), room: ctx.room, ts: eventTime(p.common, ctx.now), type: 'stream.end' });
    }
  }
}

/** The `stream.start` a (re)connection to live session `platformRoomId` means: one id per session, so reconnects repeat it harmlessly. */
export function streamStartEvent(room: string, platformRoomId: string, ts: number): CrestEvent {
  return { id: `tt:start:${platformRoomId}`.slice(0, 128), room, ts, type: 'stream.start' };
}

function mapMember(p: TikTokMemberMessage, ctx: MapContext): MapOutcome {
  // MemberMessageAction 3 is a subscription notice, not an entry.
  if (p.action === 3) return skip('member message is a subscription notice, not an entry');
  const source = ctx.sources.classify(p.clientEnterSource, p.clientLiveReason);
  return one({ ...base(p, ctx, 'viewer.enter'), type: 'viewer.enter', viewer: viewerOf(p.user, p), source: source.source }, source);
}

function mapRoomUser(p: TikTokRoomUserSeqMessage, ctx: MapContext): MapOutcome {
  const count = Number(p.total);
  if (p.total === undefined || p.total === '' || !Number.isSafeInteger(count) || count < 0) {
    throw new UnexpectedPayloadError(`roomUser: total ${JSON.stringify(p.total)} is not a viewer count`);
  }
  return one({ ...base(p, ctx, 'room.online'), type: 'room.online', count: Math.min(count, 1_000_000_000) });
}

function mapGift(p: TikTokGiftMessage, ctx: MapContext): MapOutcome {
  // A streakable gift (type 1) arrives once per step of its streak, with repeatCount growing, and once
  // more with repeatEnd = 1: count it there, once, with the final repeatCount. Without gift details
  // we cannot tell, so we wait for the end too (never double-count; at worst count a lone gift late).
  const streakable = p.gift ? p.gift.type === 1 : true;
  const ended = p.repeatEnd === 1;
  if (streakable && !ended) return skip('gift streak still running');
  const repeat = p.repeatCount ?? 1;
  if (!Number.isInteger(repeat) || repeat < 0) throw new UnexpectedPayloadError(`gift: repeatCount ${String(p.repeatCount)} is not a whole number`);
  return one({ ...base(p, ctx, 'engage.gift'), type: 'engage.gift', viewer: viewerOf(p.user, p), count: Math.max(1, repeat) });
}

function mapShopping(p: TikTokOecLiveShoppingMessage, ctx: MapContext): MapOutcome {
  const sku = nonZero(p.popProduct?.productId) || nonZero(p.productSnapShot?.productId);
  if (!sku) return skip('live-shopping message names no product');
  const name = (p.popProduct?.title || p.productSnapShot?.title || '').trim();
  const price = parsePrice(p.popProduct?.price);
  return one({
    ...base(p, ctx, 'product.launch'),
    type: 'product.launch',
    sku: sku.slice(0, 128),
    ...(name ? { name: name.slice(0, 256) } : {}),
    ...(price !== undefined ? { price } : {}),
  });
}

/** A displayed price ("$12.99", "1,299.00", "12") in minor units; undefined when it is not plainly a price. */
export function parsePrice(text: string | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const numbers = text.match(/\d[\d.,]*/g);
  if (numbers?.length !== 1) return undefined; // a range or several figures: not one price
  const cleaned = numbers[0]!.replace(/[.,]$/, '').replace(/,(?=\d{3}(?:\D|$))/g, '');
  const m = /^(\d{1,11})(?:[.,](\d{1,2}))?$/.exec(cleaned);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

function base(p: WithCommon, ctx: MapContext, type: string) {
  return { id: `tt:${msgIdOf(p, type)}`.slice(0, 128), room: ctx.room, ts: eventTime(p.common, ctx.now) };
}

/**
 * The platform's message id; without one, a digest of the payload, so an identical resend still
 * dedupes (and two different id-less messages do not collide).
 */
function msgIdOf(p: WithCommon, salt = ''): string {
  const id = nonZero(p.common?.msgId);
  if (id) return id;
  return 'h' + createHash('sha1').update(salt).update(digestJson(p)).digest('hex').slice(0, 24);
}

/** TikTok's createTime is ms since epoch (seconds on some old messages); anything else → the wall clock. */
function eventTime(common: TikTokCommon | undefined, now: number): number {
  const t = Number(common?.createTime);
  if (!Number.isFinite(t) || t <= 0) return Math.floor(now);
  if (t >= 1e12 && t < 8.64e15) return Math.floor(t);
  if (t >= 1e9 && t < 1e11) return Math.floor(t * 1000);
  return Math.floor(now);
}

/** Crest viewer id: the platform's numeric user id, else any other id it gave, else one per message. */
function viewerOf(user: TikTokUser | undefined, p: WithCommon): string {
  const id = nonZero(user?.id) || nonZero(user?.idStr) || nonZero(user?.displayId) || nonZero(user?.secUid);
  return (id ? `tt:${id}` : `tt:anon:${msgIdOf(p)}`).slice(0, 128);
}

function nonZero(v: unknown): string {
  return typeof v === 'string' && v !== '' && v !== '0' ? v : typeof v === 'number' && v > 0 ? String(v) : '';
}

function digestJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x));
}
