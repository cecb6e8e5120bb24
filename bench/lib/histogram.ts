// A log-linear latency histogram in microseconds: exact below 64 µs, then 32 buckets per power of
// two (≤ 3% error). Load processes send their counts to the runner, which merges them, so p99 over
// several processes is computed from all samples rather than averaged.

const LINEAR = 64;
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 30; // 2^31 µs is about 36 minutes: nothing in a bench window is longer
const SIZE = LINEAR + (MAX_EXP - 6 + 1) * SUB;

/** Wire form: [bucket index, count] pairs, zero buckets left out. */
export type HistogramData = Array<[number, number]>;

export class Histogram {
  private readonly counts = new Float64Array(SIZE);
  total = 0;

  record(us: number): void {
    this.counts[indexOf(us)] += 1;
    this.total += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  merge(data: HistogramData): void {
    for (const [i, n] of data) {
      this.counts[i] += n;
      this.total += n;
    }
  }

  toData(): HistogramData {
    const out: HistogramData = [];
    this.counts.forEach((n, i) => {
      if (n > 0) out.push([i, n]);
    });
    return out;
  }

  /** The value (µs) below which `p` (0..1) of the samples fall; NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return midpointOf(i);
    }
    return NaN;
  }
}

function indexOf(us: number): number {
  const v = Math.min(2 ** 31 - 1, Math.max(0, Math.floor(us)));
  if (v < LINEAR) return v;
  const exp = 31 - Math.clz32(v);
  const sub = (v >>> (exp - SUB_BITS)) & (SUB - 1);
  return LINEAR + (exp - 6) * SUB + sub;
}

function midpointOf(index: number): number {
  if (index < LINEAR) return index;
  const exp = Math.floor((index - LINEAR) / SUB) + 6;
  const sub = (index - LINEAR) % SUB;
  const width = 2 ** (exp - SUB_BITS);
  return 2 ** exp + sub * width + width / 2;
}
