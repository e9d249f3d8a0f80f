/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and last
 * points and, per bucket, the point forming the largest triangle with its neighbours, so peaks
 * and trends survive while a 100k-point series draws as ~1-2k points.
 */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  return lttbBy(xs.length, (i) => xs[i], (i) => ys[i], threshold)
}

/** LTTB over any indexed series (a ring buffer without copying it out). */
export function lttbBy(n: number, xAt: (i: number) => number, yAt: (i: number) => number, threshold: number): number[] {
  if (threshold >= n || threshold < 3) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = [0]
  const every = (n - 2) / (threshold - 2)
  let a = 0
  for (let i = 0; i < threshold - 2; i++) {
    // Average of the next bucket: the third triangle corner.
    let avgStart = Math.floor((i + 1) * every) + 1
    let avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n)
    if (avgStart >= n) avgStart = n - 1
    if (avgEnd <= avgStart) avgEnd = avgStart + 1
    let avgX = 0
    let avgY = 0
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += xAt(j)
      avgY += yAt(j)
    }
    avgX /= avgEnd - avgStart
    avgY /= avgEnd - avgStart
    const rangeStart = Math.floor(i * every) + 1
    const rangeEnd = Math.floor((i + 1) * every) + 1
    const ax = xAt(a)
    const ay = yAt(a)
    let maxArea = -1
    let chosen = rangeStart
    for (let j = rangeStart; j < rangeEnd; j++) {
      const area = Math.abs((ax - avgX) * (yAt(j) - ay) - (ax - xAt(j)) * (avgY - ay))
      if (area > maxArea) {
        maxArea = area
        chosen = j
      }
    }
    out.push(chosen)
    a = chosen
  }
  out.push(n - 1)
  return out
}

export function lttb(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): Array<{ x: number; y: number }> {
  return lttbIndices(xs, ys, threshold).map((i) => ({ x: xs[i], y: ys[i] }))
}
