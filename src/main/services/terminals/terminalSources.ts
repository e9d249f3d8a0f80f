/**
 * What runs behind each terminal kind, as argv for a HostSession (never a shell string with user
 * input in it: run ids and game names are validated by the contract and passed as arguments).
 */
import { hostPath } from '../host/hostPath'
import type { HostProcess, HostSession } from '../host/hostSession'

export const LOG_BACKLOG_LINES = 500
const BACKLOG_MAX_BYTES = 1_000_000

export function gameLogPath(session: HostSession, runId: string, game: string): Promise<string> {
  return hostPath(session, 'runs', runId, 'games', game, 'train.log')
}

export function supervisorLogPath(session: HostSession, runId: string): Promise<string> {
  return hostPath(session, 'runs', runId, 'supervisor.log')
}

const GPU_WATCH = [
  'sh',
  '-c',
  'if command -v nvidia-smi >/dev/null 2>&1; then exec nvidia-smi -l 2; else echo "nvidia-smi is not available on this host (no NVIDIA GPU or driver), so there is nothing to watch. Training here runs on the CPU."; fi',
]

export function startGpuWatch(session: HostSession, size: { cols: number; rows: number }): HostProcess {
  return session.spawn(GPU_WATCH, { pty: size })
}

/**
 * A log followed from a byte offset, so a reconnect continues exactly where the last stream
 * stopped. The first open shows the last 500 lines (up to the size measured at open) and then
 * follows from that size on.
 */
export interface LogFollower {
  /** Bytes of the file delivered so far (the next stream starts after them). */
  readonly offset: number
  /** Text to show before following: the backlog on first open, nothing on a resume. */
  backlog(session: HostSession): Promise<string>
  /** `pollMs`: read new bytes every pollMs with short commands instead of a long-lived `tail -F`
   * (a SLURM login node must keep nothing running for us). */
  follow(session: HostSession, pollMs?: number): HostProcess
  /** Count bytes that arrived from the follow stream's stdout. */
  advance(bytes: number): void
}

export function createLogFollower(file: string): LogFollower {
  let offset: number | null = null
  return {
    get offset() {
      return offset ?? 0
    },
    async backlog(session) {
      if (offset !== null) return ''
      const size = await session.run(['sh', '-c', 'wc -c < "$1" 2>/dev/null || echo 0', 'sh', file], { timeoutMs: 20_000 })
      offset = Number.parseInt(size.stdout.trim(), 10) || 0
      if (offset === 0) return ''
      const tail = await session.run(['sh', '-c', 'head -c "$2" -- "$1" | tail -n "$3" | tail -c "$4"', 'sh', file, String(offset), String(LOG_BACKLOG_LINES), String(BACKLOG_MAX_BYTES)], { timeoutMs: 20_000 })
      return tail.stdout
    },
    follow(session, pollMs) {
      if (pollMs) return pollingTail(session, file, () => offset ?? 0, pollMs)
      return session.spawn(['tail', '-c', `+${(offset ?? 0) + 1}`, '-F', '--', file])
    },
    advance(bytes) {
      offset = (offset ?? 0) + bytes
    },
  }
}

const POLL_CHUNK_BYTES = 256 * 1024

/**
 * A log follower made of short reads: every `intervalMs`, `tail -c +OFFSET | head -c CHUNK` from
 * the byte `from()` says, keeping whole lines only (so a multi-byte character cut at the chunk's
 * end is never mis-counted). Looks like a process to the terminals service; it "exits" when a read
 * fails, which the service treats like a dropped stream.
 */
function pollingTail(session: HostSession, file: string, from: () => number, intervalMs: number): HostProcess {
  const dataListeners: Array<(chunk: Buffer, stream: 'stdout' | 'stderr') => void> = []
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = []
  let stopped = false
  let paused = false
  let timer: NodeJS.Timeout | null = null
  const exit = (code: number | null, signal: string | null) => {
    if (stopped) return
    stopped = true
    if (timer) clearTimeout(timer)
    setImmediate(() => exitListeners.forEach((l) => l(code, signal)))
  }
  const tick = async () => {
    timer = null
    if (stopped) return
    if (!paused) {
      try {
        const read = await session.run(['sh', '-c', 'tail -c +"$2" -- "$1" 2>/dev/null | head -c "$3"', 'sh', file, String(from() + 1), String(POLL_CHUNK_BYTES)], { timeoutMs: 20_000 })
        if (stopped) return
        const end = read.stdout.lastIndexOf('\n')
        if (end >= 0) {
          const chunk = Buffer.from(read.stdout.slice(0, end + 1), 'utf8')
          dataListeners.forEach((l) => l(chunk, 'stdout'))
        }
      } catch {
        exit(null, null)
        return
      }
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs)
  }
  void tick()
  return {
    onData: (l) => void dataListeners.push(l),
    onExit: (l) => void exitListeners.push(l),
    write: () => {},
    resize: () => {},
    pause: () => {
      paused = true
    },
    resume: () => {
      paused = false
    },
    kill: () => exit(null, 'SIGTERM'),
  }
}
