/**
 * The API document (server/openapi.ts) against the running app: every route the express app mounts is in
 * it, every request example in it is accepted by the live route (2xx) with a token of a role it names, every
 * $ref resolves, and /docs/api renders it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../server/app.ts';
import { API_PREFIX, successOf } from '../server/openapi.ts';
import type { Role } from '../core/protocol.ts';
import { join, scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { ApiMetrics } from '../server/metrics-registry.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CLIENT_DIR } from '../server/project-paths.ts';
import { CONTRACT_SCHEMAS } from '../server/contract-schemas.ts';
import { buildClient } from './support/client-build.ts';
import { interfaceSchemas } from './support/ts-json-schema.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
let doc: Record<string, any>;
before(async () => {
  // The app mounts the client's routes only when the client is built, and the document names them: on a fresh
  // clone (no `npm run build` yet) this file would otherwise depend on another test having built it first.
  if (!existsSync(CLIENT_DIR)) buildClient();
  crest = await startTestCrest();
  const r = await crest.api('/api/openapi.json');
  assert.equal(r.status, 200);
  doc = await r.json();
});
after(() => crest.close());
exitsWithin();

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  match(path: string): boolean;
}

/** METHOD path of every route in an express 5 router stack; routers mounted at API_PREFIX walked into. */
function mounted(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((l) => {
    if (l.route) {
      const paths = Array.isArray(l.route.path) ? l.route.path : [l.route.path];
      return paths.flatMap((p) => Object.keys(l.route!.methods).filter((m) => m !== '_all').map((m) => `${m} ${prefix}${p}`));
    }
    if (l.handle?.stack) return mounted(l.handle.stack, prefix === '' && l.match(`${API_PREFIX}/x`) ? API_PREFIX : prefix);
    return [];
  });
}

test('every route the app mounts is in the OpenAPI document, and nothing else is', () => {
  // The app is only walked, never served: a context with what createApp reads at mount time.
  const app = createApp({ config: crest.config, tokenSecrets: [crest.tokenSecret], metrics: new ApiMetrics(), ingest: crest.ingest } as never);
  const routes = mounted((app as unknown as { router: { stack: Layer[] } }).router.stack).sort();
  const documented = Object.entries(doc.paths as Record<string, object>)
    .flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
    .sort();
  assert.ok(routes.length > 25, `walked ${routes.length} routes`);
  assert.deepEqual(documented, routes);
});

test('the document is OpenAPI 3.1 and every $ref in it resolves', () => {
  assert.equal(doc.openapi, '3.1.0');
  const refs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.push(x as string) : walk(x);
  };
  walk(doc);
  assert.ok(refs.length > 0, 'refs found');
  for (const ref of refs) {
    assert.match(ref, /^#\//, ref);
    const target = ref.slice(2).split('/').reduce<any>((o, k) => o?.[k], doc);
    assert.ok(target !== undefined, `unresolved ${ref}`);
  }
  for (const [p, ms] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [m, op] of Object.entries(ms)) {
      assert.ok(op.summary && Object.keys(op.responses).filter((k) => k.startsWith('2')).length === 1, `${m} ${p} has a summary and one success status`);
      for (const param of p.matchAll(/\{(\w+)\}/g)) assert.ok(op.parameters.some((x: { name: string }) => x.name === param[1]), `${m} ${p} declares ${param[1]}`);
      assert.ok(op.parameters.some((x: { $ref?: string }) => x.$ref === '#/components/parameters/RequestId'), `${m} ${p} takes X-Request-Id`);
      assert.ok(successOf(op).headers?.['X-Request-Id' as never], `${m} ${p} answers with X-Request-Id`);
    }
  }
  assert.deepEqual(Object.keys(doc['x-socketio'].clientToServer).sort(), ['room:join', 'room:leave', 'suggestion:ack']);
});

test('every request example in the document is accepted by the live route', async () => {
  let sent = 0;
  for (const [p, ms] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [m, op] of Object.entries(ms)) {
      const content = op.requestBody?.content?.['application/json'];
      if (!content) continue;
      assert.ok(content.example !== undefined, `${m} ${p} has an example`);
      const params: Record<string, string> = op['x-example-params'] ?? {};
      let path = p.replace(/\{(\w+)\}/g, (_: string, k: string) => params[k] ?? '');
      let token = crest.token(op['x-roles'][0] as Role, '*');
      // An edit needs something to edit: the plan the create example made.
      if (p.endsWith('/plans/{planId}')) {
        const created = await (await crest.api(`${API_PREFIX}/rooms/docs-room/plans`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: Date.now() + 3_600_000, sku: 'x' }) })).json();
        path = `${API_PREFIX}/rooms/docs-room/plans/${created.plan.id}`;
      }
      const r = await crest.api(path, { method: m.toUpperCase(), token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(content.example) });
      assert.ok(r.status >= 200 && r.status < 300, `${m} ${p}: ${r.status} ${await r.text()}`);
      sent++;
    }
  }
  assert.ok(sent >= 5, `sent ${sent} examples`);
});

test('every query parameter in the document is read by its route: its example is accepted, its invalid value is a 400 naming it', async () => {
  // The room the examples name must have events: series and report answer 404 for a room never seen.
  assert.equal((await crest.post([{ id: 'docs-q-1', room: 'docs-room', ts: Date.now(), type: 'room.online', count: 10 }])).status, 200);
  // ...and the detector must have applied them (CI once asked for the series first: 404, no events seen yet).
  const admin = crest.token('admin', '*');
  await waitFor('docs-room seen by the detector', 15_000, async () => ((await crest.api(`${API_PREFIX}/rooms/docs-room/state`, { token: admin })).status === 200 ? true : undefined));
  let checked = 0;
  for (const [p, ms] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [m, op] of Object.entries(ms)) {
      const query = (op.parameters as { in?: string; name: string; example: string; 'x-invalid-example': string }[]).filter((x) => x.in === 'query');
      if (!query.length) continue;
      const params: Record<string, string> = op['x-example-params'] ?? {};
      const path = p.replace(/\{(\w+)\}/g, (_: string, k: string) => params[k] ?? assert.fail(`${m} ${p}: no x-example-params for ${k}`));
      const token = crest.token(op['x-roles'][0] as Role, '*');
      for (const q of query) {
        const send = (v: string) => crest.api(`${path}?${new URLSearchParams({ [q.name]: v })}`, { method: m.toUpperCase(), token });
        const ok = await send(q.example);
        const answer = await ok.text();
        assert.ok(ok.status >= 200 && ok.status < 300, `${m} ${p}?${q.name}=${q.example}: ${ok.status} ${answer.slice(0, 300)}`);
        const bad = await send(q['x-invalid-example']);
        assert.equal(bad.status, 400, `${m} ${p}?${q.name}=${q['x-invalid-example']} is refused`);
        assert.equal((await bad.json()).error.field, q.name, `${m} ${p}: the refusal names ${q.name}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 9, `checked ${checked} query parameters`);
});

const CONTRACT_SCHEMAS_FILE = fileURLToPath(new URL('../server/contract-schemas.ts', import.meta.url));
const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));

test('the socket messages\' and responses\' schemas are those of their types as they are (CREST_UPDATE_SCHEMAS=1 rewrites them)', () => {
  const { roots, defs } = interfaceSchemas([
    { file: at('../core/protocol.ts'), name: 'ServerToClientEvents', members: 'payload' },
    { file: at('../server/api-responses.ts'), name: 'ApiResponses', members: 'type' },
  ]);
  const now = { serverMessages: roots.ServerToClientEvents, responses: roots.ApiResponses, defs };
  if (process.env.CREST_UPDATE_SCHEMAS === '1') {
    writeFileSync(
      CONTRACT_SCHEMAS_FILE,
      `// Generated by test/openapi.test.ts with CREST_UPDATE_SCHEMAS=1 (test/support/ts-json-schema.ts); do not edit.\n` +
        `import type { ServerToClientEvents } from '../core/protocol.ts';\n` +
        `import type { ApiResponses } from './api-responses.ts';\n\n` +
        `/** JSON Schemas of the socket.io server messages' payloads, of the read routes' answers, and of the named types they use. */\n` +
        `export const CONTRACT_SCHEMAS: {\n  serverMessages: Record<keyof ServerToClientEvents, unknown>;\n  responses: Record<keyof ApiResponses, unknown>;\n  defs: Record<string, unknown>;\n} = ${JSON.stringify(now, null, 2)};\n`,
    );
    return;
  }
  assert.deepEqual(CONTRACT_SCHEMAS, now, 'server/contract-schemas.ts is stale: run CREST_UPDATE_SCHEMAS=1 node test/run.mjs test/openapi.test.ts');
});

/** zod's validator of a schema of the document (zod reads local refs under $defs only: the components, moved there). */
function validator(schema: unknown) {
  const underDefs = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('#/components/schemas/', '#/$defs/'));
  return z.fromJSONSchema({ ...underDefs(schema), $defs: underDefs(doc.components.schemas) });
}

test('every server message a live socket receives passes the schema the document gives it', async () => {
  const room = 'docs-socket';
  const socket = await crest.socket(crest.token('operator', [room]));
  const got = new Map<string, unknown[]>();
  for (const name of Object.keys(doc['x-socketio'].serverToClient)) socket.on(name as 'room:tick', (msg: unknown) => got.set(name, [...(got.get(name) ?? []), msg]));
  assert.equal((await join(socket, room)).ok, true, 'joined');
  const { events } = scriptedRise(room, Date.now() - 15 * 60_000);
  for (let i = 0; i < events.length; i += 500) assert.equal((await crest.post(events.slice(i, i + 500))).status, 200);
  const suggestion = await waitFor('a suggestion pushed', 30_000, () => (got.get('suggestion:new')?.[0] as { suggestion: { id: string } } | undefined)?.suggestion);
  const op = crest.token('operator', [room]);
  assert.equal((await crest.api(`${API_PREFIX}/rooms/${room}/suggestions/${encodeURIComponent(suggestion.id)}/ack`, { method: 'POST', token: op })).status, 201, 'acked');
  const plan = await crest.api(`${API_PREFIX}/rooms/${room}/plans`, { method: 'POST', token: op, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: Date.now() + 3_600_000, sku: 'x' }) });
  assert.equal(plan.status, 201, 'plan created');
  const expected = ['room:tick', 'window:update', 'suggestion:new', 'suggestion:acked', 'plan:update'];
  await waitFor('every kind of message', 30_000, () => (expected.every((n) => got.has(n)) ? true : undefined));
  const validatorOf = (name: string) => validator(doc['x-socketio'].serverToClient[name].schema);
  for (const [name, msgs] of got) {
    const check = validatorOf(name);
    for (const msg of msgs) {
      const r = check.safeParse(msg);
      assert.ok(r.success, `${name} ${JSON.stringify(msg).slice(0, 300)}: ${r.error?.message.slice(0, 600)}`);
    }
    // The validator is strict, not one that passes anything: a field the type does not have is refused.
    assert.equal(check.safeParse({ ...(msgs[0] as object), unexpected: 1 }).success, false, `${name}: an unknown field is refused`);
  }
  // And through the named types: a suggestion of a kind there is not.
  const sg = got.get('suggestion:new')![0] as { suggestion: object };
  assert.equal(validatorOf('suggestion:new').safeParse({ ...sg, suggestion: { ...sg.suggestion, kind: 'no.such-kind' } }).success, false, 'a suggestion of an unknown kind is refused');
  socket.disconnect();
});

test('every JSON answer the document gives a schema to passes it, live', async () => {
  // The room the socket test above filled: windows, suggestions, an ack, a plan.
  const room = 'docs-socket';
  const op = crest.token('operator', '*');
  const listed = await (await crest.api(`${API_PREFIX}/rooms/${room}/suggestions`, { token: op })).json();
  const plan = await crest.api(`${API_PREFIX}/rooms/${room}/plans`, { method: 'POST', token: op, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: Date.now() + 2 * 3_600_000, sku: 'y' }) });
  const fill: Record<string, string> = { room, id: listed.suggestions[0].id, planId: (await plan.json()).plan.id };
  let checked = 0;
  const seen = new Map<string, Record<string, unknown>>();
  for (const [p, ms] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [m, opDoc] of Object.entries(ms)) {
      const [status, success] = Object.entries(opDoc.responses as Record<string, any>).find(([k]) => k.startsWith('2'))!;
      const schema = success.content?.['application/json']?.schema;
      if (!schema) continue;
      const example = opDoc.requestBody?.content?.['application/json']?.example;
      const path = p.replace(/\{(\w+)\}/g, (_: string, k: string) => fill[k] ?? assert.fail(`${m} ${p}: no value for ${k}`));
      for (const query of p.endsWith('/series') ? ['', '?res=10s'] : ['']) {
        const r = await crest.api(path + query, {
          method: m.toUpperCase(),
          token: crest.token(opDoc['x-roles'][0] as Role, '*'),
          ...(example ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(example) } : {}),
        });
        const body = await r.json();
        // An ack is 201 the first time only.
        assert.ok(String(r.status) === status || (p.endsWith('/ack') && r.status === 200), `${m} ${p}${query}: ${r.status} (documented ${status}) ${JSON.stringify(body).slice(0, 300)}`);
        const check = validator(schema);
        const v = check.safeParse(body);
        assert.ok(v.success, `${m} ${p}${query} ${JSON.stringify(body).slice(0, 300)}: ${v.error?.message.slice(0, 800)}`);
        assert.equal(check.safeParse({ ...body, unexpected: 1 }).success, false, `${m} ${p}: an unknown field is refused`);
        seen.set(`${m} ${p}${query}`, body);
        checked++;
      }
    }
  }
  assert.equal(checked, Object.keys(CONTRACT_SCHEMAS.responses).length + 1, 'every declared answer checked (series twice)');
  // Not only empty lists: these answers had something in them to check.
  for (const [path, key] of [['/windows', 'windows'], ['/suggestions', 'suggestions'], ['/plans', 'plans'], ['/boost-outcomes', 'outcomes'], ['/webhooks', 'webhooks'], ['/series?res=10s', 'points']]) {
    const body = [...seen].find(([k]) => k.startsWith('get ') && k.endsWith(path))?.[1];
    assert.ok(Array.isArray(body?.[key]) && (body[key] as unknown[]).length > 0, `${path}: ${key} not empty`);
  }
});

test('an invalid body is rejected by a route the document describes, naming the field', async () => {
  const r = await crest.api(`${API_PREFIX}/webhooks`, { method: 'POST', token: crest.token('operator', '*'), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: 'docs-room' }) });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.field, 'url');
});

test('/docs/api renders every operation and the socket messages as one page without scripts', async () => {
  const r = await crest.api('/docs/api');
  assert.equal(r.status, 200);
  const html = await r.text();
  for (const [p, ms] of Object.entries(doc.paths as Record<string, object>)) for (const m of Object.keys(ms)) assert.ok(html.includes(`${m.toUpperCase()} ${p}`), `${m} ${p} on the page`);
  for (const name of ['room:join', 'suggestion:new', 'room:resync']) assert.ok(html.includes(name), name);
  assert.ok(html.includes('<code>withinMin</code>'), 'query parameters on the page');
  assert.doesNotMatch(html, /<script|https?:\/\/cdn/i);
});
