// Median of repeated windows: robust to one window spoiled by a noisy neighbour.
export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/** Linear-interpolated quantile (0..1) of the finite values; NaN when there are none. */
export function quantile(values: number[], q: number): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const at = q * (finite.length - 1);
  const low = Math.floor(at);
  const high = Math.min(finite.length - 1, low + 1);
  return finite[low] + (finite[high] - finite[low]) * (at - low);
}

/** Least-squares slope of the growth y over x (sockets, editors); with one reading, y/x. */
export function slope(x: number[], y: number[]): number {
  if (x.length < 2) return x.length === 1 ? y[0]! / x[0]! : NaN;
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - mx) * (y[i]! - my);
    den += (x[i]! - mx) ** 2;
  }
  return num / den;
}
