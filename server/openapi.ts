/**
 * The API described by its contract: an OpenAPI 3.1 document built from the same zod schemas that validate
 * requests (zod 4's JSON Schema output, input side), from one route table, served at GET /api/openapi.json
 * and rendered server-side at /docs/api (no script, no CDN). The socket.io messages are in the same
 * document under `x-socketio`: client messages with the schemas the gateway validates them with, server
 * messages with the JSON Schemas of their payload types in core/protocol.ts (server/contract-schemas.ts, generated
 * from those types and checked against them; `satisfies` keeps the list complete).
 * test/openapi.test.ts checks that every mounted route is here and that every example passes the live API.
 */
import { z } from 'zod';
import { crestEventSchema, ROOM_ID_PATTERN } from '../core/events.ts';
import type { ServerToClientEvents } from '../core/protocol.ts';
import { alertRulesSchema } from '../core/quiet-rules.ts';
import { SOCKET_INPUT_SCHEMAS } from './gateway.ts';
import { CONTRACT_SCHEMAS } from './contract-schemas.ts';
import { planInputSchema } from './plan-store.ts';
import { webhookCreateSchema } from './routes/webhooks.ts';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './request-id.ts';
import { DEFAULT_OUTCOME_WITHIN_MS } from '../core/outcome.ts';
import { REPORT_FORMATS } from './report/render-report.ts';
import { SERIES_DEFAULT_LIMIT, SERIES_KEPT, SERIES_RESOLUTIONS } from './series-rollup.ts';

type Method = 'get' | 'post' | 'put' | 'delete';
export interface RouteDoc {
  method: Method;
  /** Express syntax (`:room`), as mounted. */
  path: string;
  summary: string;
  /** Token roles allowed; absent: no token needed. */
  roles?: string[];
  /** `example` of the time the document is built: times in it must be near then (plans: within 30 days). */
  body?: { schema: z.ZodType; example: (now: number) => unknown; contentType?: string };
  /** Path parameters of the example requests, body and query (test/openapi.test.ts sends them). */
  exampleParams?: Record<string, string>;
  /** What a success returns, when it is not JSON. */
  produces?: string;
  /** Query parameters the route reads. */
  query?: QueryDoc[];
  /** The status of a success, when it is not 200. */
  status?: 201 | 202 | 204;
}

/**
 * A query parameter. The routes parse these by hand (one or two values each), not through zod, so each one
 * carries a value the route accepts and one it refuses: test/openapi.test.ts sends both to the live route.
 */
export interface QueryDoc {
  name: string;
  description: string;
  /** JSON Schema of the value. */
  schema: Record<string, unknown>;
  example: string;
  /** Refused with a 400 whose error names this parameter. */
  invalid: string;
}

export const API_PREFIX = '/api/v1';
const OP = ['operator'];
const READ = ['operator', 'host', 'buyer'];
const SUB = ['operator', 'buyer'];
const ROOM = { room: 'docs-room' };
const HOUR = 3_600_000;
const MAX_SERIES_LIMIT = Math.max(...Object.values(SERIES_KEPT));
const ROOM_QUERY: QueryDoc = { name: 'room', description: 'Only this room (a room the token grants)', schema: { type: 'string', pattern: ROOM_ID_PATTERN.source }, example: 'docs-room', invalid: 'not a room' };
/** An ISO date-time with a zone, on the hour, `h` hours after `now` (as a planner in Shanghai types it). */
const isoAt = (now: number, h: number) => new Date(Math.ceil(now / HOUR) * HOUR + h * HOUR + 8 * HOUR).toISOString().replace(/\.000Z$/, '+08:00');

/** Every route the app mounts; the API ones relative to API_PREFIX. */
export const API_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/events',
    summary: 'Append events (a JSON array, one object, or NDJSON); per index, what was rejected and why, and what was a duplicate',
    roles: ['ingest'],
    body: {
      schema: z.array(crestEventSchema),
      example: (now) => [
        { id: 'docs-1', room: 'docs-room', ts: now, type: 'stream.start' },
        { id: 'docs-2', room: 'docs-room', ts: now + 1000, type: 'room.online', count: 250 },
      ],
    },
  },
  { method: 'get', path: '/rooms', summary: 'Rooms the token may read, with their latest state', roles: READ },
  { method: 'get', path: '/rooms/:room/state', summary: "A room's snapshot", roles: READ },
  { method: 'get', path: '/rooms/:room/windows', summary: 'Highlight windows of the current stream', roles: READ },
  { method: 'get', path: '/rooms/:room/suggestions', summary: 'Suggestions of the current stream', roles: READ },
  {
    method: 'get',
    path: '/rooms/:room/series',
    summary: 'Metric series (1 s / 10 s / 1 min points), oldest first',
    roles: READ,
    exampleParams: ROOM,
    query: [
      { name: 'res', description: 'Resolution of the points', schema: { type: 'string', enum: SERIES_RESOLUTIONS, default: '1s' }, example: '10s', invalid: '5s' },
      {
        name: 'limit',
        description: `The newest this many points. Default and most per res: ${SERIES_RESOLUTIONS.map((r) => `${r} ${SERIES_DEFAULT_LIMIT[r]} / ${SERIES_KEPT[r]}`).join(', ')}`,
        schema: { type: 'integer', minimum: 1, maximum: MAX_SERIES_LIMIT },
        example: '60',
        invalid: '0',
      },
    ],
  },
  { method: 'post', path: '/rooms/:room/suggestions/:id/ack', summary: 'Acknowledge a suggestion (201 the first time, 200 after: the first stands)', roles: READ, status: 201 },
  {
    method: 'get',
    path: '/rooms/:room/report',
    summary: "The room's report (html, json or csv)",
    roles: OP,
    produces: 'text/html',
    exampleParams: ROOM,
    query: [
      { name: 'format', description: 'csv and html come as an attachment', schema: { type: 'string', enum: REPORT_FORMATS, default: 'json' }, example: 'csv', invalid: 'pdf' },
      { name: 'tz', description: 'IANA time zone of the times in csv and html', schema: { type: 'string', default: 'UTC' }, example: 'Asia/Shanghai', invalid: 'Mars/Olympus' },
      { name: 'stream', description: "`current`, or a past stream's id from GET …/streams (reported from its archive)", schema: { type: 'string', minLength: 1, maxLength: 128, default: 'current' }, example: 'current', invalid: 'x'.repeat(129) },
    ],
  },
  {
    method: 'get',
    path: '/rooms/:room/streams',
    summary: 'Past streams of the room (archive), newest first',
    roles: SUB,
    exampleParams: ROOM,
    query: [{ name: 'limit', description: 'At most this many streams', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, example: '10', invalid: '0' }],
  },
  { method: 'get', path: '/rooms/:room/streams/:streamId/rollups', summary: "A past stream's rolled-up series", roles: SUB },
  { method: 'get', path: '/rooms/:room/streams/:streamId/archive', summary: "A past stream's events as gzip NDJSON", roles: SUB, produces: 'application/gzip' },
  { method: 'get', path: '/rooms/:room/plans', summary: 'Planned moments of the room', roles: READ },
  { method: 'post', path: '/rooms/:room/plans', summary: 'Create a planned moment', roles: OP, status: 201, exampleParams: ROOM, body: { schema: planInputSchema, example: (now) => ({ at: isoAt(now, 24), sku: 'lipstick-07', name: 'Lipstick flash sale', leadMin: 10, budget: 50000 }) } },
  {
    method: 'post',
    path: '/rooms/:room/plans/import',
    summary: 'Import planned moments (JSON array or CSV with a header row); per row, what was rejected',
    roles: OP,
    status: 201,
    exampleParams: ROOM,
    body: { schema: z.array(planInputSchema), example: (now) => [{ at: isoAt(now, 25), sku: 'serum-02', leadMin: 5 }] },
  },
  { method: 'put', path: '/rooms/:room/plans/:planId', summary: 'Edit a planned moment (version: the one you saw; 409 if it changed)', roles: OP, body: { schema: planInputSchema, example: (now) => ({ at: Math.ceil(now / HOUR) * HOUR + 26 * HOUR, sku: 'serum-02' }) } },
  { method: 'delete', path: '/rooms/:room/plans/:planId', summary: 'Delete a planned moment', roles: OP, status: 204 },
  { method: 'post', path: '/webhooks', summary: 'Subscribe a URL to suggestions of a room', roles: SUB, status: 201, body: { schema: webhookCreateSchema, example: () => ({ url: 'https://example.com/crest-hook', room: 'docs-room', audience: 'buyer', secret: 'docs-secret-0123456789' }) } },
  { method: 'get', path: '/webhooks', summary: 'Subscriptions the token may see', roles: SUB, query: [ROOM_QUERY] },
  { method: 'delete', path: '/webhooks/:id', summary: 'Remove a subscription', roles: SUB, status: 204 },
  { method: 'get', path: '/webhooks/dead-letters', summary: 'Deliveries that failed for good', roles: OP, query: [ROOM_QUERY] },
  { method: 'post', path: '/webhooks/dead-letters/:id/replay', summary: 'Send a dead letter again', roles: OP, status: 202 },
  { method: 'get', path: '/rooms/:room/alert-rules', summary: "The room's alert rules per audience", roles: OP },
  { method: 'put', path: '/rooms/:room/alert-rules', summary: 'Set the alert rules (muted kinds, quiet hours, cooldown) per audience', roles: OP, exampleParams: ROOM, body: { schema: alertRulesSchema, example: () => ({ buyer: { cooldownMinutes: 5, quietHours: { from: '23:00', to: '08:00', tz: 'Asia/Shanghai' } } }) } },
  { method: 'get', path: '/rooms/:room/alert-holds', summary: 'Alerts held back by the rules, and why', roles: OP },
  {
    method: 'get',
    path: '/rooms/:room/boost-outcomes',
    summary: 'What each boost suggestion was followed by',
    roles: SUB,
    exampleParams: ROOM,
    query: [
      {
        name: 'withinMin',
        description: 'How long after a boost.now its ad spend counts as following it',
        schema: { type: 'integer', minimum: 1, maximum: 240, default: DEFAULT_OUTCOME_WITHIN_MS / 60_000 },
        example: '30',
        invalid: '0',
      },
    ],
  },
  { method: 'get', path: '/connectors', summary: 'Platform connectors and their state', roles: OP },
];

/** Routes outside API_PREFIX. */
export const APP_ROUTES: RouteDoc[] = [
  { method: 'get', path: '/healthz', summary: 'The process answers' },
  { method: 'get', path: '/readyz', summary: 'Redis answers (503 + Retry-After otherwise)' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', produces: 'text/plain' },
  { method: 'get', path: '/api/openapi.json', summary: 'This document' },
  { method: 'get', path: '/docs/api', summary: 'This document as a page', produces: 'text/html' },
  ...['/', '/rooms', '/operator/:room', '/host/:room', '/buyer/:room'].map((path): RouteDoc => ({ method: 'get', path, summary: 'The web client (token in ?token=)', produces: 'text/html' })),
];

/** Server → client messages; their schemas come from core/protocol.ts's types (server/contract-schemas.ts). */
const SERVER_MESSAGES = {
  'room:tick': 'Room metrics once per tick: { room, cursor, tick }',
  'window:update': 'A highlight window opened, changed or closed: { room, cursor, window }',
  'suggestion:new': 'A new suggestion for the audience of the socket: { room, cursor, suggestion }',
  'suggestion:acked': 'Someone acknowledged a suggestion: { room, ack }',
  'plan:update': 'A planned moment was created, edited (plan) or deleted (plan: null): { room, cursor, planId, plan }',
  'room:resync': 'What was missed cannot be replayed: join again for a fresh snapshot: { room }',
} satisfies Record<keyof ServerToClientEvents, string>;

const openApiPath = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');
const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const REQUEST_ID_RESPONSE_HEADER = { [REQUEST_ID_HEADER]: { $ref: '#/components/headers/RequestId' } };

const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, field: { type: 'string' }, reason: { type: 'string' } }, required: ['code', 'reason'] } },
};

function operation(r: RouteDoc, prefix: string, now: number) {
  // The JSON answer's schema, where server/api-responses.ts declares the route's type.
  const answer = (CONTRACT_SCHEMAS.responses as Record<string, unknown>)[`${r.method.toUpperCase()} ${openApiPath(prefix + r.path)}`];
  const params: Record<string, unknown>[] = [...(prefix + r.path).matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  for (const q of r.query ?? []) params.push({ name: q.name, in: 'query', required: false, description: q.description, schema: q.schema, example: q.example, 'x-invalid-example': q.invalid });
  const op: Record<string, unknown> = {
    summary: r.summary,
    operationId: `${r.method}${openApiPath(prefix + r.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [prefix === API_PREFIX ? (r.path.split('/')[1] === 'rooms' && r.path.split('/')[3] ? r.path.split('/')[3]! : r.path.split('/')[1]!) : 'service'],
    parameters: [...params, { $ref: '#/components/parameters/RequestId' }],
    ...(r.roles ? { security: [{ bearer: [] }], 'x-roles': r.roles } : { security: [] }),
    responses: {
      [String(r.status ?? 200)]: {
        description: { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' }[r.status ?? 200],
        headers: REQUEST_ID_RESPONSE_HEADER,
        ...(r.status === 204 ? {} : { content: { [r.produces ?? 'application/json']: answer ? { schema: answer } : {} } }),
      },
      ...(r.roles ? { '401': { $ref: '#/components/responses/Unauthorized' }, '403': { $ref: '#/components/responses/Forbidden' } } : {}),
      ...(r.body || r.query ? { '400': { $ref: '#/components/responses/Invalid' } } : {}),
    },
  };
  if (r.body) {
    op.requestBody = { required: true, content: { [r.body.contentType ?? 'application/json']: { schema: jsonSchema(r.body.schema), example: r.body.example(now) } } };
  }
  if (r.exampleParams) op['x-example-params'] = r.exampleParams;
  return op;
}

/** The OpenAPI 3.1 document, its examples timed from `now` (ms). */
export function openApiDocument(now: number): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [prefix, routes] of [['', APP_ROUTES], [API_PREFIX, API_ROUTES]] as const) {
    for (const r of routes) (paths[openApiPath(prefix + r.path)] ??= {})[r.method] = operation(r, prefix, now);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Crest API', version: '1', description: 'Real-time monitor for livestream-commerce rooms. Tokens: `crest token --role ROLE`, sent as `Authorization: Bearer …`.' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Crest access token (crest token --role …); x-roles lists the roles an operation accepts' } },
      schemas: { Error: ERROR, ...CONTRACT_SCHEMAS.defs },
      parameters: {
        RequestId: {
          name: REQUEST_ID_HEADER,
          in: 'header',
          required: false,
          description: 'Your own id for this request: echoed back, named in our log lines, and (on ingest) carried with its events to the webhook deliveries they cause. Not matching the pattern: ignored, and one is made for you.',
          schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
        },
      },
      headers: {
        RequestId: { description: 'The request id: yours when you sent a valid one, else made here. On ingest, the webhook deliveries its events cause name it too. Quote it when asking about a request.', schema: { type: 'string' } },
      },
      responses: {
        Invalid: { description: 'The request names a field and why it was rejected', headers: REQUEST_ID_RESPONSE_HEADER, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        Unauthorized: { description: 'No token, or a bad or expired one', headers: REQUEST_ID_RESPONSE_HEADER, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        Forbidden: { description: 'The token has another role, or not this room', headers: REQUEST_ID_RESPONSE_HEADER, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
    'x-socketio': {
      description: 'socket.io on the same origin; handshake auth { token }. Client messages are acknowledged ({ ok, … } or { ok: false, error }).',
      clientToServer: Object.fromEntries(Object.entries(SOCKET_INPUT_SCHEMAS).map(([name, s]) => [name, { schema: jsonSchema(s) }])),
      serverToClient: Object.fromEntries(Object.entries(SERVER_MESSAGES).map(([name, d]) => [name, { description: d, schema: CONTRACT_SCHEMAS.serverMessages[name as keyof ServerToClientEvents] }])),
    },
  };
}

/** An operation's success response (its one 2xx). */
export function successOf(op: { responses: Record<string, any> }): { description: string; headers?: object; content?: Record<string, { schema?: unknown }> } {
  const ok = Object.entries(op.responses).find(([status]) => status.startsWith('2'));
  if (!ok) throw new Error('an operation without a success response');
  return ok[1];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;

const query = (params: { in?: string; name: string; description: string; schema: unknown; example: string }[]) => {
  const q = params.filter((p) => p.in === 'query');
  return q.length ? `<p>Query:</p><ul>${q.map((p) => `<li><code>${esc(p.name)}</code> ${esc(p.description)}, e.g. <code>${esc(p.example)}</code>${json(p.schema)}</li>`).join('')}</ul>` : '';
};

/** The document as one HTML page: every path, method, roles, query, request schema and example, socket messages. */
export function renderApiPage(doc: Record<string, any>): string {
  const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([m, op]) => {
      const body = op.requestBody?.content && Object.values(op.requestBody.content)[0];
      const answer = successOf(op).content?.['application/json']?.schema;
      return `<section><h3><code>${m.toUpperCase()} ${esc(path)}</code></h3><p>${esc(op.summary)}</p>
<p>Auth: ${op['x-roles'] ? `bearer token, role ${op['x-roles'].map(esc).join(' / ')}` : 'none'}. Responses: ${Object.keys(op.responses).join(', ')}</p>
${query(op.parameters)}${body ? `<details><summary>Request schema</summary>${json(body.schema)}</details><p>Example</p>${json(body.example)}` : ''}${answer ? `<details><summary>Answer schema</summary>${json(answer)}</details>` : ''}</section>`;
    }),
  );
  const sock = doc['x-socketio'];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crest API</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}section{border-top:1px solid #ddd}</style></head>
<body><h1>${esc(doc.info.title)}</h1><p>${esc(doc.info.description)} Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<h2>HTTP</h2>${ops.join('\n')}
<h2>socket.io</h2><p>${esc(sock.description)}</p><h3>Client → server</h3>${Object.entries(sock.clientToServer as Record<string, any>).map(([n, e]) => `<h4><code>${esc(n)}</code></h4>${json(e.schema)}`).join('')}
<h3>Server → client</h3>${Object.entries(sock.serverToClient as Record<string, any>).map(([n, e]) => `<h4><code>${esc(n)}</code></h4><p>${esc(e.description)}</p>${json(e.schema)}`).join('')}
<h3>Types</h3>${Object.entries(doc.components.schemas as Record<string, unknown>).map(([n, sch]) => `<details id="${esc(n)}"><summary><code>${esc(n)}</code></summary>${json(sch)}</details>`).join('')}</body></html>`;
}
