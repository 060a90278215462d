/**
 * Room → shard: a stable hash, so a room's events always land in one shard stream and keep their
 * order (DESIGN §7). FNV-1a 32-bit: tiny, fast, and the same in every process and language.
 */
export function shardOf(room: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < room.length; i++) {
    h ^= room.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
