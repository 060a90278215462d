/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) and the few distributions the scenario
 * generator needs. Pure: the same seed and stream name always give the same sequence, on any machine
 * (only 32-bit integer arithmetic and Math.exp/log/sqrt/cos, which are exact enough for our use).
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer uniform in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Poisson with the given mean (exact below 30, normal approximation above). */
  poisson(mean: number): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** Log-normal with the given mean and log-space sigma: heavy right tail, the shape of watch times. */
  lognormal(mean: number, sigma: number): number;
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T;
}

/** Hashes a seed and a stream name into a 32-bit state word (FNV-1a over the name, then mixed). */
function mix(seed: number, stream: string): number {
  // Seeds may be any finite number: fold the high and low 32 bits together.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let h = (0x811c9dc5 ^ lo) >>> 0;
  h = Math.imul(h ^ hi, 0x01000193) >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Creates an independent generator for (seed, stream): changing one stream's draws never shifts another's. */
export function createRng(seed: number, stream = ''): Rng {
  let sm = mix(seed, stream);
  const splitmix32 = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = 1;
  const u32 = (): number => {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counter): passes PractRand, 4 words of state.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();

  let spare: number | null = null;
  const next = (): number => u32() / 4294967296;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - next(); // (0, 1]: log(u) is finite
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };

  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    normal,
    poisson(mean) {
      if (!(mean > 0)) return 0;
      if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
    exponential: (mean) => -mean * Math.log(1 - next()),
    lognormal: (mean, sigma) => Math.exp(Math.log(mean) - (sigma * sigma) / 2 + sigma * normal()),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}
