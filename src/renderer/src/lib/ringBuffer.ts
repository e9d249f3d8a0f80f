/**
 * A fixed-capacity (x, y) series in typed arrays: appends are O(1), memory never grows past the
 * capacity, and the oldest points are overwritten first. Metric series live here, not in the store.
 */
export class SeriesRing {
  private readonly xs: Float64Array
  private readonly ys: Float64Array
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.xs = new Float64Array(capacity)
    this.ys = new Float64Array(capacity)
  }

  get length(): number {
    return this.count
  }

  push(x: number, y: number): void {
    const i = (this.start + this.count) % this.capacity
    this.xs[i] = x
    this.ys[i] = y
    if (this.count < this.capacity) this.count++
    else this.start = (this.start + 1) % this.capacity
  }

  x(i: number): number {
    return this.xs[(this.start + i) % this.capacity]
  }

  y(i: number): number {
    return this.ys[(this.start + i) % this.capacity]
  }

  last(): { x: number; y: number } | null {
    return this.count ? { x: this.x(this.count - 1), y: this.y(this.count - 1) } : null
  }

  /** Oldest first, as plain arrays (for downsampling). */
  toArrays(): { xs: Float64Array; ys: Float64Array } {
    const xs = new Float64Array(this.count)
    const ys = new Float64Array(this.count)
    for (let i = 0; i < this.count; i++) {
      xs[i] = this.x(i)
      ys[i] = this.y(i)
    }
    return { xs, ys }
  }
}
