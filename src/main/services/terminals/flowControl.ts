/**
 * Ack-based flow control for one terminal: output sent to the renderer counts as unacked until
 * the renderer acks it (after xterm has drawn it). Above `high` unacked characters the host
 * stream is paused; once the backlog drains below `low` it resumes. Memory stays bounded
 * however fast the host writes.
 */
// The window must cover output produced during one ack round trip (host → WebSocket → xterm
// parse → ack) at full speed, or the host idles between acks: 500k chars is ~50 ms at 10 MB/s
// (1M measured no faster here, with longer frames).
// xterm itself drops input past 50 MB, and the renderer holds at most this much unparsed.
export const HIGH_WATER_CHARS = 500_000
export const LOW_WATER_CHARS = 125_000

export interface FlowControl {
  sent(chars: number): void
  acked(chars: number): void
  readonly unacked: number
  readonly paused: boolean
}

export function createFlowControl(hooks: { pause(): void; resume(): void }, high = HIGH_WATER_CHARS, low = LOW_WATER_CHARS): FlowControl {
  let unacked = 0
  let paused = false
  return {
    get unacked() {
      return unacked
    },
    get paused() {
      return paused
    },
    sent(chars) {
      unacked += chars
      if (!paused && unacked > high) {
        paused = true
        hooks.pause()
      }
    },
    acked(chars) {
      // Never below zero: a confused or hostile client cannot unlock unbounded sending.
      unacked = Math.max(0, unacked - chars)
      if (paused && unacked < low) {
        paused = false
        hooks.resume()
      }
    },
  }
}
