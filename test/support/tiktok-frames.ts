/**
 * Feeds recorded TikTok LIVE messages to a real `TikTokLiveConnection` without any network: each
 * fixture message (decoded shape, as `tiktok-live-proto/v3` defines it) is encoded to protobuf with the
 * package's own schema, wrapped in a ProtoMessageFetchResult, decoded back by the package's
 * `deserializeMessage`, and handed to the connection's `processProtoMessageFetchResult` — the very
 * method its WebSocket client calls for every frame. So what the connector hears is byte-for-byte what
 * the package would emit for those messages, defaults and int64-as-string fields included; a fixture
 * field the schema does not know is dropped by the encoder, as the platform's would be.
 */
import { readFileSync } from 'node:fs';
import * as TT from 'tiktok-live-connector';

export interface TikTokFixtureMessage {
  /** Webcast message type, e.g. WebcastMemberMessage. */
  type: string;
  data: Record<string, unknown>;
}

export interface TikTokFixture {
  about: string;
  /** TikTok's id of the recorded live session. */
  platformRoomId: string;
  messages: TikTokFixtureMessage[];
}

type Codec = { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): Record<string, unknown> };
const schema = TT as unknown as Record<string, Codec>;

/** Nested message fields our fixtures use → their schema type (everything else is a scalar or a list of scalars). */
const NESTED: Record<string, string> = {
  common: 'CommonMessageData',
  user: 'User',
  gift: 'Gift',
  popProduct: 'PopProduct',
  productSnapShot: 'ProductSnapShot',
  displayText: 'MessageCommonText',
};

export function loadTikTokFixture(path: string | URL): TikTokFixture {
  return JSON.parse(readFileSync(path, 'utf8')) as TikTokFixture;
}

/** A complete message of `type`: the schema's defaults with the fixture's fields on top, nested ones too. */
function complete(type: string, partial: Record<string, unknown>): Record<string, unknown> {
  const codec = schema[type];
  if (!codec?.decode) throw new Error(`fixture: "${type}" is not a message type of tiktok-live-proto/v3`);
  const out = codec.decode(new Uint8Array());
  for (const [k, v] of Object.entries(partial)) {
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && NESTED[k] ? complete(NESTED[k], v as Record<string, unknown>) : v;
  }
  return out;
}

/** Encodes messages into one ProtoMessageFetchResult frame, as TikTok's push server sends them. */
export function encodeFrame(messages: readonly TikTokFixtureMessage[]): Uint8Array {
  const base = messages.map((m) => {
    const payload = schema[m.type]!.encode(complete(m.type, m.data)).finish();
    const common = (m.data.common ?? {}) as { msgId?: string };
    return complete('BaseProtoMessage', { method: m.type, payload: Buffer.from(payload), msgId: common.msgId ?? '0' });
  });
  return schema.ProtoMessageFetchResult!.encode(complete('ProtoMessageFetchResult', { messages: base, cursor: 'fixture', internalExt: 'fixture' })).finish();
}

/** Delivers messages to a connection exactly as its WebSocket client would: decode, then process. */
export async function deliver(connection: unknown, messages: readonly TikTokFixtureMessage[]): Promise<void> {
  const decoded = TT.deserializeMessage('ProtoMessageFetchResult', Buffer.from(encodeFrame(messages)));
  // `processProtoMessageFetchResult` is protected in the package's types; it is the method the package's
  // own WebSocket client is bound to ('protoMessageFetchResult' → this.processProtoMessageFetchResult).
  await (connection as { processProtoMessageFetchResult(r: unknown): Promise<void> }).processProtoMessageFetchResult(decoded);
}
