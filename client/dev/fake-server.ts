/**
 * DEV ONLY — not shipped, not a test of the real system. A stand-in for the Crest server so the client
 * can be seen before the real gateway exists: serves dist/client, answers GET /api/v1/rooms, and speaks
 * the socket.io protocol of core/protocol.ts with a scripted room (a past highlight window, then a live
 * one that rises, peaks and ends, with suggestions for every audience).
 *
 *   node client/build.mjs && node --import tsx client/dev/fake-server.ts [port]
 *   tokens: op (operator), host, buyer, admin; anything else is refused with 'unauthorized'.
 *   POST /dev/kick drops every socket (to watch a reconnect replay with `since`).
 */
import express from 'express';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Server } from 'socket.io';
import type {
  Ack,
  Audience,
  ClientToServerEvents,
  HighlightWindow,
  Role,
  RoomMetrics,
  RoomSnapshot,
  RoomSummary,
  SeriesPoint,
  ServerToClientEvents,
  Suggestion,
  SuggestionKind,
  Tick,
  WindowState,
} from '../../core/protocol.ts';

const ROLES: Record<string, Role> = { op: 'operator', host: 'host', buyer: 'buyer', admin: 'admin' };
const ROOMS = ['demo-1', 'spring-sale', 'night-market'];
const port = Number(process.argv[2] ?? 5178);
const dist = join(import.meta.dirname, '..', '..', 'dist', 'client');

type Msg =
  | { ev: 'room:tick'; cursor: string; tick: Tick }
  | { ev: 'window:update'; cursor: string; window: HighlightWindow }
  | { ev: 'suggestion:new'; cursor: string; suggestion: Suggestion };

interface Room {
  id: string;
  base: number;
  seq: number;
  log: Msg[];
  series: SeriesPoint[];
  windows: Map<string, HighlightWindow>;
  suggestions: Suggestion[];
  acks: Ack[];
  metrics: RoomMetrics | null;
  t0: number;
}

const rooms = new Map<string, Room>();
const start = Date.now();

function metricsAt(room: Room, ts: number, c: number, gmv: number, orders: number): RoomMetrics {
  const wave = (k: number) => Math.max(0, Math.round(c / k + 8 * Math.sin(ts / 20_000 + k)));
  return {
    ts,
    concurrency: c,
    concurrencySource: 'platform',
    peakConcurrency: Math.max(c, room.metrics?.peakConcurrency ?? 0),
    entriesPerMin: { follow: wave(30), public: wave(12), paid: wave(20), other: wave(90) },
    exitsPerMin: { follow: 3, public: 20, paid: 8, other: 2 },
    entriesTotal: { follow: 900, public: 5200, paid: 2100, other: 300 },
    exposureTotal: { follow: 4000, public: 120000, paid: 30000, other: 1000 },
    uniqueViewers: 8500,
    avgWatchSec: 214 + (ts % 60_000) / 1000,
    watchMinutes: 30_000,
    gmv,
    orders,
    ordersCreated: orders + 12,
    refunds: 2,
    payingViewers: Math.round(orders * 0.9),
    conversion: (orders * 0.9) / 8500,
    gmvPerKWatchMin: Math.round((gmv / 30_000) * 1000),
    adSpend: 1_200_000,
    likes: 40000,
    comments: 3200,
    shares: 410,
    follows: 230,
    gifts: 55,
    events: 120000,
    lateEvents: 3,
    duplicateEvents: 11,
    live: true,
  };
}

/** Concurrency curve: baseline with a little noise and two bumps (one in the past, one live). */
function curve(room: Room, ts: number): number {
  const m = (ts - room.t0) / 60_000;
  const bump = (at: number, h: number, w: number) => h * Math.exp(-(((m - at) / w) ** 2));
  return Math.round(room.base + 30 * Math.sin(m * 2.1) + bump(-12, room.base * 0.9, 2.5) + bump(4, room.base * 1.6, 3));
}

/** > 0 when cursor b comes after a (both `ms-seq`). */
function after(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return bm - am || bs - as;
}

function cursor(room: Room, ts: number): string {
  return `${ts}-${room.seq++}`;
}

// The parameter shapes core/suggestion-policy.ts emits.
const PARAMS: Record<SuggestionKind, Record<string, number | string>> = {
  'boost.now': { liftPct: 64, baseline: 820, forSec: 35, boostMin: 6, peakInMin: 4.2 },
  'boost.stop': { peak: 1520, liftPct: 90 },
  'cue.tease': { liftPct: 64, concurrency: 1340 },
  'cue.launch': { peakInSec: 45, forecastPeak: 1500 },
  'cue.hold': { peak: 1520, concurrency: 1210 },
  'cue.countdown': {},
  'cue.retract': { fellTo: 830, baseline: 820 },
  'plan.at-risk': {},
};

function suggestion(room: Room, ts: number, audience: Audience, kind: SuggestionKind, extra: Partial<Suggestion> = {}): Suggestion {
  const codes: Record<SuggestionKind, Suggestion['reasonCode']> = {
    'boost.now': 'rising',
    'boost.stop': 'peak-passed',
    'cue.tease': 'rising',
    'cue.launch': 'near-peak',
    'cue.hold': 'falling-after-peak',
    'cue.countdown': 'planned-moment',
    'cue.retract': 'retracted',
    'plan.at-risk': 'plan-flat',
  };
  return {
    id: `${room.id}:${kind}:${audience}:${ts}`,
    room: room.id,
    audience,
    kind,
    reasonCode: codes[kind],
    params: PARAMS[kind],
    reason: kind === 'boost.now' ? 'Concurrency up 42% over baseline and still rising' : `English reason for ${kind}`,
    confidence: 0.82,
    createdAt: ts,
    expiresAt: ts + 3 * 60_000,
    cooldownKey: kind,
    windowId: null,
    forecastPeakTs: kind === 'boost.now' ? ts + 4 * 60_000 : null,
    suggestedBoostMin: kind === 'boost.now' ? 8 : null,
    suppressed: null,
    ...extra,
  };
}

function makeRoom(id: string, base: number): Room {
  const now = Date.now();
  const room: Room = {
    id, base, seq: 0, log: [], series: [], windows: new Map(), suggestions: [], acks: [], metrics: null,
    t0: now + 60_000,
  };
  // 25 minutes of history at 1 s.
  let gmv = 0;
  let orders = 0;
  for (let ts = now - 25 * 60_000; ts <= now; ts += 1000) {
    const c = curve(room, ts);
    if (Math.random() < 0.05) { orders++; gmv += 9900 + Math.round(Math.random() * 20000); }
    room.series.push({ ts, concurrency: c, gmv, orders });
    room.metrics = metricsAt(room, ts, c, gmv, orders);
  }
  const onset = room.t0 - 15.5 * 60_000;
  const past: HighlightWindow = {
    id: `${id}:${onset}`, room: id, state: 'ended', onsetTs: onset, detectedTs: onset + 38_000,
    peakTs: onset + 3.5 * 60_000, endTs: onset + 7 * 60_000, updatedTs: onset + 7 * 60_000,
    baseline: base, peak: Math.round(base * 1.9), liftPct: 90, slopePerMin: 120, confidence: 0.91,
    gmv: 1_234_500, orders: 87, forecastPeak: null, forecastPeakTs: null,
  };
  room.windows.set(past.id, past);
  room.suggestions.push(
    suggestion(room, onset + 40_000, 'buyer', 'boost.now'),
    suggestion(room, onset + 41_000, 'host', 'cue.tease'),
    suggestion(room, onset + 3.6 * 60_000, 'host', 'cue.launch'),
    suggestion(room, onset + 4 * 60_000, 'buyer', 'boost.stop'),
    suggestion(room, onset + 4.5 * 60_000, 'host', 'cue.hold', { suppressed: 'cooldown' }),
    suggestion(room, onset + 5 * 60_000, 'operator', 'plan.at-risk', { params: {} }),
  );
  room.acks.push({ suggestionId: room.suggestions[0].id, room: id, by: 'li.wei', role: 'buyer', at: onset + 70_000 });
  rooms.set(id, room);
  return room;
}

ROOMS.forEach((id, i) => makeRoom(id, [800, 2400, 300][i]));

const app = express();
app.get('/api/v1/rooms', (req, res) => {
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  if (!ROLES[token]) {
    res.status(401).json({ error: { code: 'unauthorized', reason: 'bad token' } });
    return;
  }
  const out: RoomSummary[] = [...rooms.values()].map((r) => ({
    room: r.id,
    metrics: r.metrics,
    activeWindow: [...r.windows.values()].find((w) => w.state !== 'ended') ?? null,
    lastSuggestion: r.suggestions[r.suggestions.length - 1] ?? null,
  }));
  res.json({ rooms: out });
});
app.post('/dev/kick', (_req, res) => {
  io.disconnectSockets(false);
  res.json({ ok: true });
});
app.use(express.static(dist));
app.get(['/', '/rooms', '/operator/:room', '/host/:room', '/buyer/:room'], (_req, res) => res.sendFile(join(dist, 'index.html')));

const http = createServer(app);
const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);

function visible(role: Role, s: Suggestion): boolean {
  if (role === 'operator' || role === 'admin') return true;
  return s.audience === role && s.suppressed === null;
}

io.use((socket, next) => {
  const role = ROLES[String(socket.handshake.auth.token ?? '')];
  if (!role) return next(new Error('unauthorized'));
  socket.data.role = role;
  next();
});

io.on('connection', (socket) => {
  const role = socket.data.role as Role;
  socket.on('room:join', (req, ack) => {
    const room = rooms.get(req.room);
    if (!room) return ack({ ok: false, error: { code: 'not-found', reason: 'no such room' } });
    void socket.join(`${room.id}:${role === 'admin' ? 'operator' : role}`);
    let replayed = 0;
    if (req.since) {
      // Replay everything after `since` (some of it the client already has: it must dedupe).
      for (const m of room.log) {
        if (after(req.since, m.cursor) <= 0) continue;
        if (m.ev === 'suggestion:new' && !visible(role, m.suggestion)) continue;
        emit(socket, room.id, m);
        replayed++;
      }
    }
    const snap: RoomSnapshot = {
      room: room.id,
      metrics: room.metrics,
      windows: [...room.windows.values()],
      plans: [],
      suggestions: room.suggestions.filter((s) => visible(role, s)),
      acks: room.acks,
      series: room.series,
      cursor: room.log[room.log.length - 1]?.cursor ?? `${start}-0`,
    };
    ack({ ok: true, snapshot: snap, replayed });
  });
  socket.on('suggestion:ack', (req, ack) => {
    const room = rooms.get(req.room);
    if (!room) return ack({ ok: false, error: { code: 'not-found', reason: 'no such room' } });
    const a: Ack = { suggestionId: req.id, room: room.id, by: `${role}-user`, role, at: room.metrics?.ts ?? Date.now() };
    if (!room.acks.some((x) => x.suggestionId === req.id)) room.acks.push(a);
    ack({ ok: true, ack: a });
    io.to([`${room.id}:operator`, `${room.id}:host`, `${room.id}:buyer`]).emit('suggestion:acked', { room: room.id, ack: a });
  });
});

type Target = Pick<ReturnType<typeof io.to>, 'emit'>;

function emit(target: Target, room: string, m: Msg): void {
  if (m.ev === 'room:tick') target.emit('room:tick', { room, cursor: m.cursor, tick: m.tick });
  else if (m.ev === 'window:update') target.emit('window:update', { room, cursor: m.cursor, window: m.window });
  else target.emit('suggestion:new', { room, cursor: m.cursor, suggestion: m.suggestion });
}

function publish(room: Room, m: Msg): void {
  room.log.push(m);
  if (room.log.length > 5000) room.log.shift();
  if (m.ev === 'suggestion:new') {
    room.suggestions.push(m.suggestion);
    for (const role of ['operator', 'host', 'buyer'] as const) {
      if (visible(role, m.suggestion)) emit(io.to(`${room.id}:${role}`), room.id, m);
    }
    return;
  }
  emit(io.to([`${room.id}:operator`, `${room.id}:host`, `${room.id}:buyer`]), room.id, m);
}

function setWindow(room: Room, ts: number, state: WindowState): void {
  const onset = room.t0 - 60_000;
  const prev = room.windows.get(`${room.id}:${onset}`);
  const w: HighlightWindow = {
    id: `${room.id}:${onset}`, room: room.id, state, onsetTs: onset, detectedTs: prev?.detectedTs ?? ts,
    peakTs: state === 'rising' ? null : ts, endTs: state === 'ended' ? ts : null, updatedTs: ts,
    baseline: room.base, peak: curve(room, ts), liftPct: ((curve(room, ts) - room.base) / room.base) * 100,
    slopePerMin: 180, confidence: state === 'rising' ? 0.74 : 0.9, gmv: 456_700, orders: 31,
    forecastPeak: state === 'rising' ? Math.round(room.base * 2.6) : null,
    forecastPeakTs: state === 'rising' ? room.t0 + 4 * 60_000 : null,
  };
  room.windows.set(w.id, w);
  publish(room, { ev: 'window:update', cursor: cursor(room, ts), window: w });
}

// A scripted live stream: every second a tick; the live window goes rising → peak → ended.
const script: [number, (room: Room, ts: number) => void][] = [
  [20, (r, ts) => setWindow(r, ts, 'rising')],
  [21, (r, ts) => publish(r, { ev: 'suggestion:new', cursor: cursor(r, ts), suggestion: suggestion(r, ts, 'buyer', 'boost.now') })],
  [21, (r, ts) => publish(r, { ev: 'suggestion:new', cursor: cursor(r, ts), suggestion: suggestion(r, ts, 'host', 'cue.tease') })],
  [22, (r, ts) => publish(r, { ev: 'suggestion:new', cursor: cursor(r, ts), suggestion: suggestion(r, ts, 'host', 'cue.countdown', { params: { atTs: ts + 95_000, product: '羽绒服 A12' } }) })],
  [200, (r, ts) => setWindow(r, ts, 'peak')],
  [201, (r, ts) => publish(r, { ev: 'suggestion:new', cursor: cursor(r, ts), suggestion: suggestion(r, ts, 'host', 'cue.launch') })],
  [300, (r, ts) => publish(r, { ev: 'suggestion:new', cursor: cursor(r, ts), suggestion: suggestion(r, ts, 'buyer', 'boost.stop') })],
  [420, (r, ts) => setWindow(r, ts, 'ended')],
];
let second = 0;
setInterval(() => {
  second++;
  const ts = Date.now();
  for (const room of rooms.values()) {
    const last = room.series[room.series.length - 1];
    const orders = last.orders + (Math.random() < 0.1 ? 1 : 0);
    const gmv = last.gmv + (orders > last.orders ? 12900 : 0);
    const c = curve(room, ts);
    room.series.push({ ts, concurrency: c, gmv, orders });
    if (room.series.length > 3600) room.series.shift();
    room.metrics = metricsAt(room, ts, c, gmv, orders);
    publish(room, { ev: 'room:tick', cursor: cursor(room, ts), tick: { room: room.id, ts, metrics: room.metrics } });
    for (const [at, fn] of script) if (at === second) fn(room, ts);
  }
}, 1000);

http.listen(port, '127.0.0.1', () => console.log(`fake crest on http://127.0.0.1:${port}/?token=op`));
