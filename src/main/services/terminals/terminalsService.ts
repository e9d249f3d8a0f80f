/**
 * terminals.*: shells (PTY) and followed streams (supervisor log, game logs, nvidia-smi) on an
 * instance, each owned by the connection that opened it and closed when it disconnects.
 * Output is decoded per stream (UTF-8 safe), coalesced into a few messages per frame, and
 * flow-controlled by renderer acks so a flood never grows memory or freezes the window.
 */
import { randomBytes } from 'node:crypto'
import * as terminalsApi from '../../../shared/api/terminals'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { HostRegistry } from '../host/hostRegistry'
import type { HostProcess, HostSessionLease } from '../host/hostSession'
import { reattachDelayMs } from '../runs/journalCursor'
import { createFlowControl, type FlowControl } from './flowControl'
import { createLogFollower, gameLogPath, startGpuWatch, supervisorLogPath, type LogFollower } from './terminalSources'
import { createUtf8Stream, splitText } from './utf8Stream'

const MAX_MESSAGE_CHARS = 32_768
const COALESCE_MS = 4

interface Terminal {
  id: string
  owner: string
  kind: terminalsApi.TerminalKind
  instanceId: string
  size: { cols: number; rows: number }
  lease: HostSessionLease | null
  proc: HostProcess | null
  follower: LogFollower | null
  flow: FlowControl
  pending: string
  flushTimer: NodeJS.Timeout | null
  retryTimer: NodeJS.Timeout | null
  retries: number
  closed: boolean
  /** The renderer has subscribed to this terminal's output (its first ack). */
  ready: boolean
  /** An exit that happened before the renderer was ready, delivered on its first ack. */
  deferredExit: { code: number | null; message: string | null } | null
}

export interface TerminalsServiceOptions {
  bus: EventBus
  hosts: HostRegistry
  log(line: string): void
  /** SLURM cluster instances: logs are read by polling, never by a `tail -F` left on the login node. */
  instanceSlurm?(instanceId: string): unknown
  highWater?: number
  lowWater?: number
}

/** How often a polled log (SLURM login nodes) is read. */
export const LOG_POLL_MS = 2000

export function createTerminalsService(options: TerminalsServiceOptions) {
  const { bus, hosts } = options
  const terminals = new Map<string, Terminal>()

  const flush = (t: Terminal) => {
    if (t.flushTimer) clearTimeout(t.flushTimer)
    t.flushTimer = null
    if (!t.pending || !t.ready) return
    const text = t.pending
    t.pending = ''
    for (const data of splitText(text, MAX_MESSAGE_CHARS)) bus.emit('terminals.data', { terminalId: t.id, data }, t.id)
  }
  const output = (t: Terminal, text: string) => {
    if (!text || t.closed) return
    // Counted when produced: output held here before the renderer is ready is unacked too.
    t.flow.sent(text.length)
    t.pending += text
    if (!t.ready) return
    if (t.pending.length >= MAX_MESSAGE_CHARS) flush(t)
    else if (!t.flushTimer) t.flushTimer = setTimeout(() => flush(t), COALESCE_MS)
  }

  const finish = (t: Terminal, code: number | null, message: string | null) => {
    if (t.closed) return
    flush(t)
    t.closed = true
    if (t.retryTimer) clearTimeout(t.retryTimer)
    t.lease?.release()
    t.lease = null
    if (!t.ready) {
      t.deferredExit = { code, message }
      return
    }
    terminals.delete(t.id)
    bus.emit('terminals.exit', { terminalId: t.id, code, message }, t.id)
  }

  /** Start (or restart after a drop) the process behind a terminal. */
  const start = async (t: Terminal, input: { runId?: string; game?: string }): Promise<void> => {
    const lease = await hosts.acquire(t.instanceId)
    if (t.closed) return lease.release()
    t.lease = lease
    let proc: HostProcess
    if (t.kind === 'shell') proc = lease.shell(t.size)
    else if (t.kind === 'gpu') proc = startGpuWatch(lease, t.size)
    else {
      if (!t.follower) t.follower = createLogFollower(t.kind === 'log' ? await gameLogPath(lease, input.runId!, input.game!) : await supervisorLogPath(lease, input.runId!))
      output(t, await t.follower.backlog(lease))
      if (t.closed) return
      proc = t.follower.follow(lease, options.instanceSlurm?.(t.instanceId) ? LOG_POLL_MS : undefined)
    }
    t.proc = proc
    const stdout = createUtf8Stream()
    const stderr = createUtf8Stream()
    proc.onData((chunk, stream) => {
      if (t.proc !== proc) return
      t.retries = 0
      if (stream === 'stdout') {
        t.follower?.advance(chunk.length)
        output(t, stdout.write(chunk))
      } else output(t, stderr.write(chunk))
    })
    proc.onExit((code, signal) => {
      if (t.proc !== proc || t.closed) return
      output(t, stdout.end() + stderr.end())
      t.proc = null
      t.lease?.release()
      t.lease = null
      if (t.follower) {
        // A followed log never ends on its own: the connection dropped. Continue from the same byte.
        const delay = reattachDelayMs(t.retries++)
        output(t, `\r\n\x1b[2m[stream lost; reconnecting in ${Math.round(delay / 1000)} s and continuing from byte ${t.follower.offset}]\x1b[0m\r\n`)
        retryLater(t, input, delay)
        return
      }
      finish(t, code, signal ? `Ended by signal ${signal}.` : null)
    })
    if (t.flow.paused) proc.pause()
  }
  const retryLater = (t: Terminal, input: { runId?: string; game?: string }, delay = reattachDelayMs(t.retries++)) => {
    if (t.closed) return
    t.retryTimer = setTimeout(() => {
      t.retryTimer = null
      start(t, input).catch((error: unknown) => {
        output(t, `\x1b[2m[${error instanceof Error ? error.message : String(error)}]\x1b[0m\r\n`)
        retryLater(t, input)
      })
    }, delay)
  }

  const owned = (terminalId: string, connectionId: string): Terminal => {
    const t = terminals.get(terminalId)
    if (!t || t.owner !== connectionId) throw new RpcError('not_found', 'That terminal is closed. Open a new one from the Terminals tab.')
    return t
  }

  bus.onDisconnect((connectionId) => {
    for (const t of [...terminals.values()]) if (t.owner === connectionId) close(t)
  })

  function close(t: Terminal) {
    const proc = t.proc
    t.proc = null
    t.ready = true
    finish(t, null, 'Closed.')
    terminals.delete(t.id)
    proc?.kill()
  }

  const titleOf = (input: { kind: terminalsApi.TerminalKind; runId?: string; game?: string }) =>
    input.kind === 'shell' ? 'Shell' : input.kind === 'gpu' ? 'nvidia-smi' : input.kind === 'supervisor' ? 'Supervisor log' : `${input.game} log`

  const api: DomainImpl<typeof terminalsApi.methods> = {
    'terminals.open': async (input, ctx) => {
      const id = `t${randomBytes(8).toString('hex')}`
      const t: Terminal = {
        id,
        owner: ctx.connectionId,
        kind: input.kind,
        instanceId: input.instanceId,
        size: { cols: input.cols, rows: input.rows },
        lease: null,
        proc: null,
        follower: null,
        pending: '',
        flushTimer: null,
        retryTimer: null,
        retries: 0,
        closed: false,
        ready: false,
        deferredExit: null,
        flow: createFlowControl({ pause: () => t.proc?.pause(), resume: () => t.proc?.resume() }, options.highWater, options.lowWater),
      }
      terminals.set(id, t)
      // Output is held (and counted against the flow limit) until the renderer's first ack says it listens.
      start(t, input).catch((error: unknown) => finish(t, null, error instanceof Error ? error.message : String(error)))
      return { terminalId: id, title: titleOf(input) }
    },
    'terminals.write': async ({ terminalId, data }, ctx) => {
      const t = owned(terminalId, ctx.connectionId)
      if (t.kind === 'shell') t.proc?.write(data)
      return {}
    },
    'terminals.resize': async ({ terminalId, cols, rows }, ctx) => {
      const t = owned(terminalId, ctx.connectionId)
      t.size = { cols, rows }
      t.proc?.resize(cols, rows)
      return {}
    },
    'terminals.ack': async ({ terminalId, chars }, ctx) => {
      const t = owned(terminalId, ctx.connectionId)
      t.flow.acked(chars)
      if (!t.ready) {
        t.ready = true
        flush(t)
        if (t.deferredExit) {
          terminals.delete(t.id)
          bus.emit('terminals.exit', { terminalId: t.id, ...t.deferredExit }, t.id)
        }
      }
      return {}
    },
    'terminals.close': async ({ terminalId }, ctx) => {
      const t = terminals.get(terminalId)
      if (t && t.owner === ctx.connectionId) close(t)
      return {}
    },
  }

  return {
    api,
    /** For tests and benches: how much output a terminal holds unacked, and whether its stream is paused. */
    inspect: (terminalId: string) => {
      const t = terminals.get(terminalId)
      return t ? { unacked: t.flow.unacked, paused: t.flow.paused, pending: t.pending.length } : null
    },
    dispose() {
      for (const t of [...terminals.values()]) close(t)
    },
  }
}
