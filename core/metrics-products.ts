/**
 * Sales by product (sku) for "top products", in bounded memory: a Space-Saving summary of PRODUCTS_KEPT
 * entries weighted by GMV. While a room sells at most PRODUCTS_KEPT distinct skus every figure is exact; past
 * that, a new sku takes the place of the smallest entry and inherits its GMV as an over-count bound
 * (`gmvError`), so a product that really sells is never lost and the reported bound says how sure the figure is.
 */
import type { ProductSales } from './protocol.ts';

export const PRODUCTS_KEPT = 32;
export const TOP_PRODUCTS = 10;

/** [sku, name, gmv, orders, gmvError] — a tuple keeps each entry small in the checkpoint JSON. */
export type ProductEntry = [string, string | null, number, number, number];

function find(t: ProductEntry[], sku: string): ProductEntry | undefined {
  for (let i = 0; i < t.length; i++) if (t[i][0] === sku) return t[i];
  return undefined;
}

/** A paid order of `sku`. */
export function productPaid(t: ProductEntry[], sku: string, amount: number): void {
  const e = find(t, sku);
  if (e) {
    e[2] += amount;
    e[3]++;
    return;
  }
  if (t.length < PRODUCTS_KEPT) {
    t.push([sku, null, amount, 1, 0]);
    return;
  }
  // Evict the smallest (the first of equals: deterministic); the newcomer inherits its counts as the bound.
  let min = 0;
  for (let i = 1; i < t.length; i++) if (t[i][2] < t[min][2]) min = i;
  const m = t[min];
  t[min] = [sku, null, m[2] + amount, m[3] + 1, m[2]];
}

/** A product put on the shelf: remembers its name (and starts tracking it while there is room). */
export function productLaunched(t: ProductEntry[], sku: string, name: string | undefined): void {
  const e = find(t, sku);
  if (e) {
    if (name !== undefined) e[1] = name;
  } else if (t.length < PRODUCTS_KEPT) {
    t.push([sku, name ?? null, 0, 0, 0]);
  }
}

/** The best sellers by GMV (then orders, then sku), without products that sold nothing. */
export function topProducts(t: readonly ProductEntry[], n = TOP_PRODUCTS): ProductSales[] {
  return t
    .filter((e) => e[3] > 0)
    .sort((a, b) => b[2] - a[2] || b[3] - a[3] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([sku, name, gmv, orders, gmvError]) => ({ sku, name, gmv, orders, gmvError }));
}
