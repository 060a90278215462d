/**
 * The fan-out bench's client side, in processes of its own (never the server's): opens socket.io clients
 * `first` … `first + clients − 1` (websocket transport), client i joined to room i mod `rooms`, and stamps
 * every `room:tick` on receipt.
 * IPC from the parent: {cmd:'connect', url, token, first, clients, rooms} → {connected, seconds};
 * {cmd:'measure'} starts the sample; {cmd:'report'} → {received, raw lags and stages, loop delay, receipts per tick
 * time}; {cmd:'close'}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../core/protocol.ts';
import { idMs } from '../../workers/stream-entry.ts';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
const sockets: ClientSocket[] = [];
let measuring = false;
let measureStart = 0;
let received = 0;
/** Receipts per tick event time (a second boundary), from the first: delivery is counted per boundary, not per wall second. */
const bySecond = new Map<number, number>();
const lags: number[] = [];
// Stages: the tick's cursor is its out-stream id, whose ms is when the detector's commit landed in Redis.
const toCommit: number[] = [];
const commitToSocket: number[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });

function onTick(msg: { cursor: string; tick: { ts: number } }): void {
  bySecond.set(msg.tick.ts, (bySecond.get(msg.tick.ts) ?? 0) + 1);
  if (!measuring) return;
  const now = Date.now();
  received++;
  lags.push(now - msg.tick.ts);
  const committed = idMs(msg.cursor);
  toCommit.push(committed - msg.tick.ts);
  commitToSocket.push(now - committed);
}

async function openOne(url: string, token: string, room: string): Promise<void> {
  const s: ClientSocket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(s);
  await new Promise<void>((ok, fail) => {
    s.once('connect', () => ok());
    s.once('connect_error', (e) => fail(e));
  });
  const r = await s.timeout(60_000).emitWithAck('room:join', { room });
  if (!r.ok) throw new Error(`join ${room}: ${r.error.reason}`);
  s.on('room:tick', onTick);
}

process.on('message', async (m: { cmd: string; url: string; token: string; first: number; clients: number; rooms: number }) => {
  if (m.cmd === 'connect') {
    const t0 = Date.now();
    const PARALLEL = 100;
    let next = m.first;
    const end = m.first + m.clients;
    const lane = async () => {
      while (next < end) {
        const i = next++;
        await openOne(m.url, m.token, `room-${i % m.rooms}`);
      }
    };
    try {
      await Promise.all(Array.from({ length: PARALLEL }, lane));
      process.send!({ connected: sockets.filter((s) => s.connected).length, seconds: (Date.now() - t0) / 1000 });
    } catch (err) {
      process.send!({ error: (err as Error).message, connected: sockets.filter((s) => s.connected).length });
    }
  } else if (m.cmd === 'measure') {
    measuring = true;
    measureStart = Date.now();
    loopDelay.enable();
  } else if (m.cmd === 'report') {
    measuring = false;
    loopDelay.disable();
    const seconds = (Date.now() - measureStart) / 1000;
    process.send!({
      received,
      seconds,
      stillConnected: sockets.filter((s) => s.connected).length,
      lags,
      toCommit,
      commitToSocket,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      bySecond: Object.fromEntries(bySecond),
      rss: process.memoryUsage().rss,
    });
  } else if (m.cmd === 'close') {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  }
});
process.send!({ ready: true });
