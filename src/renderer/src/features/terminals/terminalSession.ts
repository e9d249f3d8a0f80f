/**
 * One terminal tab's link between an xterm instance and the backend: open, output with acks
 * sent after xterm has drawn it (flow control), input, resize, and reopen after the backend
 * connection comes back. Terminal bytes go straight into xterm, never into the store.
 */
import type { Terminal } from '@xterm/xterm'
import { api } from '../../api'
import type { TerminalTab } from '../../store/terminalsSlice'

const ACK_EVERY_CHARS = 16_384
const ACK_DELAY_MS = 30
const WRITE_SLICE_CHARS = 32_768

export interface TerminalSessionStatus {
  state: 'opening' | 'open' | 'exited' | 'error'
  message: string | null
}

export class TerminalSession {
  private terminalId: string | null = null
  private unsubs: Array<() => void> = []
  private unacked = 0
  private ackTimer: ReturnType<typeof setTimeout> | null = null
  private pending: string[] = []
  private frame: number | null = null
  private disposed = false
  private generation = 0
  private readonly offStatus: () => void

  constructor(
    private readonly tab: TerminalTab,
    private readonly term: Terminal,
    private readonly onStatus: (status: TerminalSessionStatus) => void,
  ) {
    term.onData((data) => {
      if (this.terminalId && tab.kind === 'shell') void api['terminals.write']({ terminalId: this.terminalId, data }).catch(() => {})
    })
    term.onResize(({ cols, rows }) => {
      if (this.terminalId) void api['terminals.resize']({ terminalId: this.terminalId, cols, rows }).catch(() => {})
    })
    let wasClosed = false
    this.offStatus = api.onStatus((status) => {
      // The backend closes a connection's terminals when it drops; open them again on return.
      if (status === 'closed') wasClosed = true
      else if (wasClosed) {
        wasClosed = false
        this.term.write('\r\n\x1b[2m[reconnected to Gantry]\x1b[0m\r\n')
        void this.open()
      }
    })
  }

  async open(): Promise<void> {
    const generation = ++this.generation
    this.detach()
    this.onStatus({ state: 'opening', message: null })
    try {
      const { terminalId } = await api['terminals.open']({ instanceId: this.tab.instanceId, kind: this.tab.kind, runId: this.tab.runId, game: this.tab.game, cols: Math.max(2, this.term.cols), rows: Math.max(1, this.term.rows) })
      if (this.disposed || generation !== this.generation) {
        void api['terminals.close']({ terminalId }).catch(() => {})
        return
      }
      this.terminalId = terminalId
      this.unsubs.push(
        api.on('terminals.data', ({ data }) => this.write(data), terminalId),
        api.on(
          'terminals.exit',
          ({ code, message }) => {
            this.writePendingNow()
            this.term.write(`\r\n\x1b[2m[${message ?? `exited${code === null ? '' : ` with code ${code}`}`}]\x1b[0m\r\n`)
            this.terminalId = null
            this.detach()
            this.onStatus({ state: 'exited', message: message ?? null })
          },
          terminalId,
        ),
      )
      // The first ack tells the backend we listen: output held until now starts flowing.
      await api['terminals.ack']({ terminalId, chars: 0 })
      this.onStatus({ state: 'open', message: null })
    } catch (error) {
      this.onStatus({ state: 'error', message: error instanceof Error ? error.message : String(error) })
    }
  }

  /** Output is handed to xterm once per animation frame, as one write, however many messages came. */
  private write(data: string): void {
    this.pending.push(data)
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.writePending())
  }

  private writePending(): void {
    this.frame = null
    const id = this.terminalId
    const data = this.pending.length === 1 ? this.pending[0] : this.pending.join('')
    this.pending = []
    // xterm checks its time budget between writes, not inside one: slices keep each frame short.
    let at = 0
    for (; data.length - at > WRITE_SLICE_CHARS; at += WRITE_SLICE_CHARS) this.term.write(data.slice(at, at + WRITE_SLICE_CHARS))
    this.term.write(data.slice(at), () => {
      // Acked only once xterm has processed it, so a slow renderer slows the host, not the UI.
      this.unacked += data.length
      if (this.unacked >= ACK_EVERY_CHARS) this.flushAck(id)
      else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAck(id), ACK_DELAY_MS)
    })
  }

  private flushAck(id: string | null): void {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    this.ackTimer = null
    const chars = this.unacked
    this.unacked = 0
    if (id && id === this.terminalId && chars > 0) void api['terminals.ack']({ terminalId: id, chars }).catch(() => {})
  }

  /** Output still waiting for its frame goes out first, so nothing is dropped or reordered. */
  private writePendingNow(): void {
    if (this.frame === null) return
    cancelAnimationFrame(this.frame)
    this.writePending()
  }

  private detach(): void {
    this.writePendingNow()
    for (const off of this.unsubs) off()
    this.unsubs = []
    this.unacked = 0
  }

  dispose(): void {
    this.disposed = true
    this.offStatus()
    const id = this.terminalId
    this.terminalId = null
    this.detach()
    if (this.ackTimer) clearTimeout(this.ackTimer)
    if (id) void api['terminals.close']({ terminalId: id }).catch(() => {})
  }
}
