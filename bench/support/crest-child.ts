/**
 * A Crest under test in its own process (so the load generator never shares its event loop):
 *   node --import tsx --expose-gc bench/support/crest-child.ts   (spawned by spawnCrest, env = Crest config)
 * It runs `startCrest` with the roles in CREST_ROLES, then answers the parent over IPC:
 *   {cmd:'mem'}   → after a full GC (of the detector thread too): rss, heapUsed, external (for the per-room memory figures)
 *   {cmd:'stats'} → detector counters and owned shards
 *   {cmd:'stop'}  → stops Crest cleanly (so --cpu-prof writes its profile) and exits.
 */
import { loadConfig } from '../../config/config.ts';
import { startCrest } from '../../server/crest.ts';
import { createLogger } from '../../server/logger.ts';

const config = loadConfig(process.env);
const crest = await startCrest(config, { log: createLogger('warn') });
const send = (m: object) => process.send?.(m);

process.on('message', async (msg: { id: number; cmd: string }) => {
  switch (msg.cmd) {
    case 'mem': {
      const gc = (globalThis as { gc?: () => void }).gc;
      // The detector's heap lives on its own thread (workers/detector-thread.ts): collect it there too.
      const d = crest.detector as { gc?: () => Promise<number> } | null;
      const threadHeap = gc && d?.gc ? await d.gc() : 0;
      if (gc) {
        gc();
        gc();
      }
      const m = process.memoryUsage();
      send({ id: msg.id, rss: m.rss, heapUsed: m.heapUsed + threadHeap, external: m.external, arrayBuffers: m.arrayBuffers });
      break;
    }
    case 'stats':
      send({ id: msg.id, detector: crest.detector ? { ...crest.detector.stats, owned: crest.detector.ownedShards().length } : null, ingest: crest.ingest.counters });
      break;
    case 'stop':
      await crest.stop();
      send({ id: msg.id, stopped: true });
      process.exit(0);
  }
});
send({ ready: true, url: crest.url });
