import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../core/report.ts';
import { detailFixture, inputFixture, metricsFixture, min, suggestion, T0 } from '../../test/fixtures/report-input.ts';
import { cell, CSV_SECTIONS, renderReportCsv } from './render-csv.ts';
import { esc, renderReportHtml } from './render-html.ts';
import { renderReport } from './render-report.ts';
import { exitsWithin } from '../../test/support/exit-watch.ts';

exitsWithin();

const EVIL = '<script>alert("x")</script>&\'';

const report = () =>
  buildReport(
    inputFixture({
      metrics: metricsFixture({ detail: detailFixture({ topProducts: [{ sku: 'hot-1', name: `Jacket ${EVIL}`, gmv: 99_000, orders: 10, gmvError: 0 }] }) }),
      plannedMoments: [{ id: 'p1', at: T0 + 12 * min, sku: 'hot-1', name: `Hot ${EVIL}`, leadMin: 5, budget: 20_000 }],
      suggestions: [suggestion('s1', T0 + 11 * min, { reason: `rising ${EVIL}` })],
      acks: [{ suggestionId: 's1', room: 'r1', by: `anna ${EVIL}`, role: 'buyer', at: T0 + 11 * min + 5_000 }],
    }),
  );

/** RFC 4180 rows (quoted fields with "" escapes, CRLF line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r') continue;
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  return rows;
}

test('HTML escapes a <script> in a product name, a reason and an acknowledger, and runs nothing', () => {
  const html = renderReportHtml(report());
  assert.ok(!html.includes('<script'), 'no raw <script> tag');
  assert.ok(html.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;'), 'shown as text');
  assert.ok(html.includes('Hot &#60;script&#62;'), 'html.includes(\'Hot &#60;script&#62;\')');
  assert.ok(html.includes('anna &#60;script&#62;'), 'html.includes(\'anna &#60;script&#62;\')');
  assert.ok(html.includes('Jacket &#60;script&#62;'), 'product names too');
  assert.equal(esc(`<a href="x">'&`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
});

test('HTML is one self-contained page: inline SVG chart with windows, suggestion and plan markers; no external URL', () => {
  const html = renderReportHtml(report(), { timeZone: 'Asia/Shanghai' });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<svg[^>]*viewBox/);
  assert.match(html, /<polyline /, 'concurrency line');
  assert.match(html, /<rect [^>]*fill="#6366f1"/, 'ended window shaded in its state colour');
  assert.match(html, /<path d="M[^"]*"[^>]*><title>[^<]*boost\.now/, 'suggestion marker');
  assert.match(html, /stroke-dasharray="4 3"><title>planned Hot/, 'planned-moment marker');
  assert.doesNotMatch(html, /https?:\/\//, 'no external URL at all');
  assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/);
  assert.match(html, /GMV 成交额/);
  assert.match(html, /20:10:00/, 'times in the requested time zone (12:10 UTC = 20:10 in Shanghai)');
  assert.match(html, /hit 命中/);
  assert.match(html, /acknowledged by anna/);
});

test('CSV: one table per section, each row led by its section, header rows with "section", columns consistent', () => {
  const text = renderReportCsv(report());
  assert.ok(text.startsWith('\uFEFF'), 'BOM for Excel');
  const rows = parseCsv(text.slice(1));
  const blocks: string[][][] = [[]];
  for (const r of rows) {
    if (r.length === 1 && r[0] === '') blocks.push([]);
    else blocks.at(-1)!.push(r);
  }
  assert.deepEqual(blocks.map((b) => b[1]?.[0] ?? '(empty)').filter((s) => s !== '(empty)'), [...CSV_SECTIONS], 'sections in order');
  for (const [header, ...data] of blocks) {
    assert.equal(header![0], 'section');
    for (const d of data) assert.equal(d.length, header!.length, `row width of ${d[0]}`);
  }
  const table = (name: string) => {
    const b = blocks.find((x) => x[1]?.[0] === name)!;
    const [h, ...data] = b;
    return data.map((d) => Object.fromEntries(h!.map((k, i) => [k, d[i]])));
  };
  const [w] = table('windows');
  assert.equal(w!.lift_pct, '150');
  assert.equal(w!.peak, '500');
  assert.equal(w!.gmv_minor, '99000');
  assert.equal(w!.orders, '10');
  assert.equal(w!.onset_latency_s, '30');
  assert.equal(w!.build_up_spend_minor, '', 'unknown spend is empty, not 0');
  const [p] = table('plans');
  assert.equal(p!.outcome, 'hit');
  assert.equal(p!.name, `Hot ${EVIL}`, 'text survives quoting');
  const [s] = table('suggestions');
  assert.equal(s!.status, 'acknowledged');
  assert.equal(s!.ack_by, `anna ${EVIL}`);
  assert.equal(table('timeline').length, report().timeline.points.length);
  const dec = table('gmv_decomposition');
  assert.deepEqual(dec.map((x) => [x.source, x.gmv_minor]), [['follow', '20000'], ['public', '50000'], ['paid', '24000'], ['other', '0'], ['unattributed', '5000']]);
  assert.deepEqual(table('top_products').map((x) => [x.rank, x.sku, x.name, x.gmv_minor, x.gmv_error_minor]), [['1', 'hot-1', `Jacket ${EVIL}`, '99000', '0']]);
});

test('CSV cells: quotes, commas and newlines quoted; formula-like text defused; numbers untouched', () => {
  assert.equal(cell('a,b'), '"a,b"');
  assert.equal(cell('say "hi"'), '"say ""hi"""');
  assert.equal(cell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(cell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(cell(-5), '-5');
  assert.equal(cell(null), '');
});

test('renderReport names the file after the room and the generation time, per format', () => {
  const r = report();
  assert.equal(renderReport(r, 'csv').filename, 'crest-report-r1-20260101-1300.csv');
  assert.equal(renderReport(r, 'html').contentType, 'text/html; charset=utf-8');
  assert.deepEqual(JSON.parse(renderReport(r, 'json').body), JSON.parse(JSON.stringify(r)));
});
