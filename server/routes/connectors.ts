/**
 * `GET /api/v1/connectors`: the platform connectors' states (connected, retrying with reason, ended,
 * error), as the connector processes last wrote them to Redis. Operators (and admins) see the rooms
 * their token grants; `stale` flags a state not refreshed for a minute (its process may be gone).
 */
import { Router } from 'express';
import type { ConnectorState, ConnectorsResponse } from '../../core/protocol.ts';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole } from '../auth/middleware.ts';
import { canAccessRoom } from '../auth/token.ts';
import { keys } from '../redis-keys.ts';
import type { ApiResponses } from '../api-responses.ts';

/** Connectors write at least every 15 s while running (heartbeat); past this, say so. */
export const CONNECTOR_STALE_MS = 60_000;

export function connectorsRouter(ctx: AppContext): Router {
  const r = Router();
  r.get('/connectors', authenticate(ctx.tokenSecrets), requireRole('operator'), async (req, res) => {
    const hash = await ctx.redis.hgetall(keys.connectors());
    const now = Date.now();
    const connectors: ConnectorsResponse['connectors'] = [];
    for (const [room, json] of Object.entries(hash)) {
      if (!canAccessRoom(req.claims!, room)) continue;
      const state = parseState(json);
      if (!state) {
        ctx.log.warn('unreadable connector state in redis; skipped', { room });
        continue;
      }
      const live = state.status === 'connected' || state.status === 'connecting' || state.status === 'retrying';
      connectors.push({ ...state, stale: live && now - state.updatedAt > CONNECTOR_STALE_MS });
    }
    connectors.sort((a, b) => a.room.localeCompare(b.room));
    res.json({ connectors } satisfies ApiResponses['GET /api/v1/connectors']);
  });
  return r;
}

/** Validates a state read back from Redis (a boundary): the fields the panel relies on, or null. */
function parseState(json: string): ConnectorState | null {
  try {
    const v = JSON.parse(json) as Partial<ConnectorState>;
    if (typeof v.room !== 'string' || typeof v.status !== 'string' || typeof v.updatedAt !== 'number' || typeof v.counts !== 'object') return null;
    return v as ConnectorState;
  } catch {
    // Not JSON: reported by the caller as unreadable.
    return null;
  }
}
