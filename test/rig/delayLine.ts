/**
 * One direction of the test relay (test/rig/tcpProxy.ts) as a wire with a release time per chunk:
 * chunks leave in the order they came, each at its time, as the bytes of a link with latency would.
 *
 * - One timer, for the earliest chunk still waiting; when it fires every chunk that is due leaves
 *   in one corked write. A chunk that is due when it arrives (nothing waiting, no delay) is written
 *   at once, without a timer tick.
 * - Release times never go backwards, so order is kept when the delay shrinks or the mode changes.
 * - Memory is bounded, and the source is slowed the way TCP would slow it: reading stops while more
 *   than `maxInFlight` bytes are waiting in the line (the link's capacity; large, so it does not cap
 *   a 20 ms link below line rate), while the last waiting chunk leaves more than `maxAheadMs` from
 *   now (a throttled link's queue), or while the destination has more than `maxUnsent` bytes it has
 *   not taken yet (the receiver's window is full). Reading resumes below half of each.
 */
import type net from 'node:net'

interface Entry {
  at: number
  chunk: Buffer
}

/** A Node timer can fire up to ~1 ms before performance.now() reaches its time (it counts whole ms of the loop's clock). */
const EARLY_MS = 1

export class DelayLine {
  private readonly entries: Entry[] = []
  private head = 0
  private inFlight = 0
  private lastAt = 0
  private timer: NodeJS.Timeout | null = null
  private ending = false
  private paused = false

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly limits: { maxInFlight: number; maxAheadMs: number; maxUnsent: number },
  ) {
    dst.on('drain', () => this.resumeIfRoom(performance.now()))
  }

  /** The time (performance.now()) at which the last waiting chunk leaves; now when none waits. */
  busyUntil(now: number): number {
    return Math.max(now, this.lastAt)
  }

  /** Sends chunk at time `at` (performance.now() clock), or later if an earlier chunk leaves later. */
  push(chunk: Buffer, at: number): void {
    const now = performance.now()
    this.lastAt = Math.max(at, this.lastAt)
    if (this.head === this.entries.length && this.lastAt <= now + EARLY_MS) {
      this.write(chunk)
    } else {
      this.entries.push({ at: this.lastAt, chunk })
      this.inFlight += chunk.length
      if (this.timer === null) this.schedule(now)
    }
    this.pauseIfFull(now)
  }

  /** Ends the destination once every waiting chunk has left. */
  end(): void {
    this.ending = true
    if (this.head === this.entries.length) this.endDestination()
  }

  /** Drops what is waiting (the connection is gone). */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.entries.length = 0
    this.head = 0
    this.inFlight = 0
  }

  private schedule(now: number): void {
    const wait = Math.max(1, Math.round(this.entries[this.head].at - now))
    this.timer = setTimeout(() => this.release(), wait)
  }

  private release(): void {
    this.timer = null
    const now = performance.now()
    this.dst.cork()
    while (this.head < this.entries.length && this.entries[this.head].at <= now + EARLY_MS) {
      const { chunk } = this.entries[this.head++]
      this.inFlight -= chunk.length
      this.write(chunk)
    }
    this.dst.uncork()
    if (this.head === this.entries.length) {
      this.entries.length = 0
      this.head = 0
      if (this.ending) this.endDestination()
    } else {
      if (this.head > 1024) {
        this.entries.splice(0, this.head)
        this.head = 0
      }
      this.schedule(now)
    }
    this.resumeIfRoom(now)
  }

  /**
   * The FIN follows the bytes, and is asked for only once the destination has handed them all to
   * the kernel: a socket whose end() is still waiting cannot be reset (see tcpProxy.ts resetSocket).
   */
  private endDestination(): void {
    const dst = this.dst
    if (dst.destroyed || dst.writableEnded) return
    if (dst.writableLength === 0) dst.end()
    else dst.write(Buffer.alloc(0), () => this.endDestination())
  }

  private write(chunk: Buffer): void {
    if (!this.dst.destroyed) this.dst.write(chunk)
  }

  private pauseIfFull(now: number): void {
    if (this.paused) return
    const { maxInFlight, maxAheadMs, maxUnsent } = this.limits
    if (this.inFlight > maxInFlight || this.lastAt - now > maxAheadMs || this.dst.writableLength > maxUnsent) {
      this.paused = true
      this.src.pause()
    }
  }

  private resumeIfRoom(now: number): void {
    if (!this.paused) return
    const { maxInFlight, maxAheadMs, maxUnsent } = this.limits
    if (this.inFlight <= maxInFlight / 2 && this.lastAt - now <= maxAheadMs / 2 && this.dst.writableLength <= maxUnsent / 2) {
      this.paused = false
      this.src.resume()
    }
  }
}
