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
 * - `delay(ms)`           each chunk arrives ms later (order kept)
 * - `throttle(bytesPerS)` both directions limited to about bytesPerS each
 * - `blackhole()`         accept and keep sockets, relay nothing (data is dropped)
 * - `refuse()`            new connections are reset at once (host down); current ones keep going
 * - `limitData(n)`        after n more bytes in total, reset that connection
 * Actions: `reset()` RSTs all current connections, `dropAll()` closes them cleanly (FIN).
 * Listens on 127.0.0.1 only.
 */
import net from 'node:net'

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

export async function startTcpProxy(options: { targetPort: number; targetHost?: string }): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1'
  let mode: ProxyMode = { kind: 'pass' }
  let accepted = 0
  const pairs = new Set<Pair>()

  function resetPair(pair: Pair): void {
    pairs.delete(pair)
    pair.client.resetAndDestroy()
    pair.upstream.resetAndDestroy()
  }

  /** One direction of a pair, with an ordered queue so delay/throttle keep byte order. */
  function relay(pair: Pair, src: net.Socket, dst: net.Socket): void {
    let queue: Promise<void> = Promise.resolve()
    let queued = 0
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
    const write = (chunk: Buffer) => {
      if (!dst.destroyed) dst.write(chunk)
    }
    src.on('data', (chunk: Buffer) => {
      const m = mode
      if (m.kind === 'blackhole') return
      if (m.kind === 'limitData') {
        const room = m.bytes - pair.counted
        pair.counted += chunk.length
        if (chunk.length >= room) {
          if (room > 0) write(chunk.subarray(0, room))
          // Let the partial write leave before the reset.
          setImmediate(() => resetPair(pair))
          return
        }
      }
      const enqueue = (job: () => Promise<void>) => {
        queued++
        if (queued > 64) src.pause()
        queue = queue.then(job).finally(() => {
          queued--
          if (queued <= 16) src.resume()
        })
      }
      if (m.kind === 'delay') {
        const due = Date.now() + m.ms
        enqueue(async () => {
          await sleep(Math.max(0, due - Date.now()))
          write(chunk)
        })
      } else if (m.kind === 'throttle') {
        const slice = Math.max(1, Math.floor(m.bytesPerSec / 20))
        for (let off = 0; off < chunk.length; off += slice) {
          const piece = chunk.subarray(off, off + slice)
          enqueue(async () => {
            await sleep((piece.length / m.bytesPerSec) * 1000)
            write(piece)
          })
        }
      } else if (queued > 0) {
        enqueue(async () => write(chunk))
      } else {
        write(chunk)
      }
    })
    src.on('end', () => {
      void queue.then(() => dst.end())
    })
  }

  const server = net.createServer((client) => {
    accepted++
    if (mode.kind === 'refuse') {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect(options.targetPort, targetHost)
    const pair: Pair = { client, upstream, counted: 0 }
    pairs.add(pair)
    const onError = () => {
      if (pairs.has(pair)) resetPair(pair)
    }
    client.on('error', onError)
    upstream.on('error', onError)
    client.on('close', () => {
      pairs.delete(pair)
      upstream.destroy()
    })
    upstream.on('close', () => {
      pairs.delete(pair)
      client.destroy()
    })
    relay(pair, client, upstream)
    relay(pair, upstream, client)
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
