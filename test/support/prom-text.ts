/**
 * A strict reader of the Prometheus text format (0.0.4), for tests that scrape /metrics: it throws on a
 * line that is neither a comment nor a sample, on a sample whose family has no `# TYPE`, and on a family
 * typed twice (what concatenating two registries would get wrong). Values parse as Prometheus's own reader
 * does (Go's ParseFloat: NaN in any case; prom-client writes `Nan` for an event-loop mean not yet sampled).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  /** Sum of every sample of `name` whose labels include `where`. */
  sum(name: string, where?: Record<string, string>): number;
  has(name: string): boolean;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|[Nn][Aa][Nn]|\+Inf|-Inf)( -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!name || !type) throw new Error(`line ${i + 1}: bad TYPE line: ${line}`);
      if (types.has(name)) throw new Error(`line ${i + 1}: ${name} typed twice`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[3].length) {
        const l = LABEL.exec(m[3]);
        if (!l) throw new Error(`line ${i + 1}: bad labels: ${m[3]}`);
        labels[l[1]!] = l[2]!;
      }
    }
    const name = m[1]!;
    if (!familyOf(name, types)) throw new Error(`line ${i + 1}: ${name} has no # TYPE line before it`);
    samples.push({ name, labels, value: /^nan$/i.test(m[4]!) ? NaN : Number(m[4]!.replace('+Inf', 'Infinity')) });
  }
  return {
    types,
    samples,
    sum: (name, where = {}) =>
      samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((t, s) => t + s.value, 0),
    has: (name) => samples.some((s) => s.name === name),
  };
}

/** The family a sample belongs to: its own name, or its name less a histogram/counter suffix. */
export function familyOf(sample: string, types: Map<string, string>): string | undefined {
  if (types.has(sample)) return sample;
  const suffix = SUFFIXES.find((x) => sample.endsWith(x));
  const base = suffix ? sample.slice(0, -suffix.length) : undefined;
  return base && types.has(base) ? base : undefined;
}
