/**
 * THE network-fault rig: a TCP relay 127.0.0.1:<random> → target with runtime modes, so a test can
 * break a live SSH connection the way real networks do (tc netem and toxiproxy are not available).
 *
 *   const proxy = await startTcpProxy({ targetPort: sshd.port })
 *   // connect the client to proxy.host:proxy.port instead of sshd
 *   proxy.blackhole()   // sockets stay open, nothing moves (a sleeping Wi-Fi, a dead route)
 *   proxy.reset()       // RST every current connection (new ones still pass)
 *   proxy.pass()        // back to normal
 *   await proxy.close()
 *
 * Modes apply to data moving in both directions, on current and new connections:
 * - `pass()`              relay as is
 * - `delay(ms)`           each chunk arrives ms later (order kept), otherwise at line rate
 *                         (test/rig/delayLine.ts: one timer, no extra tick, bounded memory)
 * - `throttle(bytesPerS)` both directions limited to about bytesPerS each
 * - `blackhole()`         accept and keep sockets, relay nothing (data is dropped)
 * - `refuse()`            new connections are reset at once (host down); current ones keep going
 * - `limitData(n)`        after n more bytes in total, reset that connection
 * Actions: `reset()` RSTs all current connections, `dropAll()` closes them cleanly (FIN).
 * Listens on 127.0.0.1 only.
 */
import net from 'node:net'
import { DelayLine } from './delayLine'

/**
 * What one direction may hold: 32 MiB waiting in the line lets 20 ms of latency pass 1.6 GB/s (more
 * than this relay can move), so the endpoints' own windows decide the throughput, as on a real link;
 * 2 s of queue ahead (a throttled link's backlog; delays up to 1 s are not slowed by it); 1 MiB not
 * yet taken by the receiver is about a socket buffer.
 */
const LINE_LIMITS = { maxInFlight: 32 * 1024 * 1024, maxAheadMs: 2000, maxUnsent: 1024 * 1024 }

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'throttle'; bytesPerSec: number }
  | { kind: 'blackhole' }
  | { kind: 'refuse' }
  | { kind: 'limitData'; bytes: number }

export interface TcpProxy {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly mode: ProxyMode
  /** Connections accepted so far (a reconnect shows up as a new one). */
  readonly accepted: number
  /** Connections open now. */
  readonly open: number
  pass(): void
  delay(ms: number): void
  throttle(bytesPerSec: number): void
  blackhole(): void
  refuse(): void
  limitData(bytes: number): void
  reset(): void
  dropAll(): void
  close(): Promise<void>
}

interface Pair {
  client: net.Socket
  upstream: net.Socket
  /** Bytes relayed since the current limitData mode was set. */
  counted: number
}

/**
 * RST a socket. Node's resetAndDestroy() fails while the socket's end() is still under way (libuv
 * refuses a reset during a shutdown) and then never closes the handle, so the peer got a clean FIN
 * and the process spun at exit. The delay line ends a socket only once its bytes are out, which
 * makes that window short; inside it, a plain destroy closes the socket.
 */
export function resetSocket(socket: net.Socket): void {
  if (socket.writableEnded && !socket.writableFinished) socket.destroy()
  else socket.resetAndDestroy()
}

export async function startTcpProxy(options: { targetPort: number; targetHost?: string }): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1'
  let mode: ProxyMode = { kind: 'pass' }
  let accepted = 0
  const pairs = new Set<Pair>()

  function resetPair(pair: Pair): void {
    pairs.delete(pair)
    resetSocket(pair.client)
    resetSocket(pair.upstream)
  }

  /** One direction of a pair: every mode's bytes go through one delay line, so order is kept across mode changes. */
  function relay(pair: Pair, src: net.Socket, dst: net.Socket): DelayLine {
    const line = new DelayLine(src, dst, LINE_LIMITS)
    src.on('data', (chunk: Buffer) => {
      const m = mode
      const now = performance.now()
      if (m.kind === 'blackhole') return
      if (m.kind === 'limitData') {
        const room = m.bytes - pair.counted
        pair.counted += chunk.length
        if (chunk.length >= room) {
          if (room > 0) line.push(chunk.subarray(0, room), now)
          // Let the partial write leave before the reset.
          setImmediate(() => resetPair(pair))
          return
        }
      }
      if (m.kind === 'delay') {
        line.push(chunk, now + m.ms)
      } else if (m.kind === 'throttle') {
        // Slices of 1/20 s, each leaving when the link has had time to carry it.
        const slice = Math.max(1, Math.floor(m.bytesPerSec / 20))
        for (let off = 0; off < chunk.length; off += slice) {
          const piece = chunk.subarray(off, off + slice)
          line.push(piece, line.busyUntil(now) + (piece.length / m.bytesPerSec) * 1000)
        }
      } else {
        line.push(chunk, now)
      }
    })
    src.on('end', () => line.end())
    return line
  }

  // Half-open allowed on both hops: a FIN passes through in its place after the bytes before it,
  // instead of closing the pair while delayed bytes are still waiting.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted++
    if (mode.kind === 'refuse') {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect({ port: options.targetPort, host: targetHost, allowHalfOpen: true })
    const pair: Pair = { client, upstream, counted: 0 }
    pairs.add(pair)
    const onError = () => {
      if (pairs.has(pair)) resetPair(pair)
    }
    client.on('error', onError)
    upstream.on('error', onError)
    // No Nagle in the relay: it forwards what it got when it is due, as a wire would.
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const lines = [relay(pair, client, upstream), relay(pair, upstream, client)]
    const onClose = (other: net.Socket) => () => {
      pairs.delete(pair)
      lines.forEach((l) => l.dispose())
      other.destroy()
    }
    client.on('close', onClose(upstream))
    upstream.on('close', onClose(client))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port

  const setMode = (next: ProxyMode) => {
    mode = next
    if (next.kind === 'limitData') for (const p of pairs) p.counted = 0
  }

  return {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode
    },
    get accepted() {
      return accepted
    },
    get open() {
      return pairs.size
    },
    pass: () => setMode({ kind: 'pass' }),
    delay: (ms) => setMode({ kind: 'delay', ms }),
    throttle: (bytesPerSec) => setMode({ kind: 'throttle', bytesPerSec }),
    blackhole: () => setMode({ kind: 'blackhole' }),
    refuse: () => setMode({ kind: 'refuse' }),
    limitData: (bytes) => setMode({ kind: 'limitData', bytes }),
    reset() {
      for (const p of [...pairs]) resetPair(p)
    },
    dropAll() {
      for (const p of [...pairs]) {
        pairs.delete(p)
        p.client.end()
        p.upstream.end()
        p.client.destroySoon()
        p.upstream.destroySoon()
      }
    },
    close() {
      for (const p of [...pairs]) resetPair(p)
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
