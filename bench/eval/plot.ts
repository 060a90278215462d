/**
 * The latency-vs-false-alarm plot of one set, hand-written SVG (no dependency): x = false alarms per 1,000
 * unlabelled rows on a symmetric-log axis (0 fits, 0.1 and 10 are both readable), y = median onset latency in
 * rows. Every swept setting is a dot; each detector's polyline joins its non-dominated settings (no other
 * setting of it is both as quiet and earlier), so the detector whose line lies lower-left dominates.
 */
import type { SweepPoint } from './matched-rate.ts';

const W = 860;
const H = 520;
const M = { l: 70, r: 210, t: 40, b: 60 };
const COLORS = ['#d62728', '#ff7f0e', '#8c564b', '#1f77b4', '#2ca02c', '#9467bd', '#17becf', '#7f7f7f', '#bcbd22', '#e377c2'];
/** symlog: linear below C, logarithmic above. */
const C = 0.05;
const symlog = (x: number): number => Math.log10(1 + x / C);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Settings of one family that no other of its settings beats on both axes, by rising false-alarm rate. */
export function frontier(points: readonly SweepPoint[]): SweepPoint[] {
  const ps = points
    .filter((p) => Number.isFinite(p.aggregate.detectMedian))
    .sort((a, b) => (a.aggregate.faPer1k ?? 0) - (b.aggregate.faPer1k ?? 0) || a.aggregate.detectMedian - b.aggregate.detectMedian);
  const out: SweepPoint[] = [];
  for (const p of ps) if (!out.length || p.aggregate.detectMedian < out[out.length - 1]!.aggregate.detectMedian) out.push(p);
  return out;
}

export function latencyPlotSvg(title: string, points: readonly SweepPoint[]): string {
  const families = [...new Set(points.map((p) => p.family))];
  const lat = points.map((p) => p.aggregate.detectMedian).filter((x) => Number.isFinite(x));
  const fa = points.map((p) => p.aggregate.faPer1k ?? 0);
  const xMax = symlog(Math.max(1, ...fa) * 1.1);
  const yMax = Math.max(10, ...lat) * 1.05;
  const px = (x: number) => M.l + (symlog(x) / xMax) * (W - M.l - M.r);
  const py = (y: number) => H - M.b - (y / yMax) * (H - M.t - M.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.l}" y="22" font-size="14">${esc(title)}</text>`,
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="black"/>`,
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="black"/>`,
  ];
  for (const t of [0, 0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]) {
    if (symlog(t) > xMax) break;
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${H - M.b}" x2="${x}" y2="${M.t}" stroke="#eee"/>`, `<text x="${x}" y="${H - M.b + 16}" text-anchor="middle">${t}</text>`);
  }
  const yStep = niceStep(yMax / 6);
  for (let y = 0; y <= yMax; y += yStep) {
    const yy = py(y).toFixed(1);
    out.push(`<line x1="${M.l}" y1="${yy}" x2="${W - M.r}" y2="${yy}" stroke="#eee"/>`, `<text x="${M.l - 6}" y="${yy}" text-anchor="end" dy="4">${y}</text>`);
  }
  out.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 18}" text-anchor="middle">false alarms per 1,000 unlabelled rows (symlog)</text>`,
    `<text transform="translate(18 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">median onset latency over all rises, a miss = never (rows)</text>`,
  );
  families.forEach((fam, k) => {
    const color = COLORS[k % COLORS.length]!;
    const own = points.filter((p) => p.family === fam);
    const line = frontier(own).map((p) => `${px(p.aggregate.faPer1k ?? 0).toFixed(1)},${py(p.aggregate.detectMedian).toFixed(1)}`);
    out.push(`<polyline data-detector="${esc(fam)}" fill="none" stroke="${color}" stroke-width="2" points="${line.join(' ')}"/>`);
    for (const p of own) {
      if (!Number.isFinite(p.aggregate.detectMedian)) continue;
      out.push(
        `<circle cx="${px(p.aggregate.faPer1k ?? 0).toFixed(1)}" cy="${py(p.aggregate.detectMedian).toFixed(1)}" r="${p.isDefault ? 4.5 : 2.5}" fill="${color}"><title>${esc(`${fam} ${p.setting}: FA/1k ${(p.aggregate.faPer1k ?? 0).toFixed(2)}, control FA ${p.aggregate.controlFa}, latency over all rises ${p.aggregate.detectMedian} (over hits ${p.aggregate.latencyMedian}), ${p.aggregate.tp}/${p.aggregate.rises} hits`)}</title></circle>`,
      );
    }
    const ly = M.t + 10 + k * 20;
    out.push(
      `<line x1="${W - M.r + 15}" y1="${ly}" x2="${W - M.r + 40}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${W - M.r + 46}" y="${ly + 4}">${esc(fam)}</text>`,
    );
  });
  out.push(`<text x="${W - M.r + 15}" y="${M.t + 10 + families.length * 20 + 10}" font-size="10" fill="#555">big dot = default setting</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
