/**
 * The relay as a latency emulator (test/rig/tcpProxy.ts + delayLine.ts), with plain sockets on
 * loopback: a delay adds that much to each byte and no more, keeps byte order (also when the delay
 * changes under load), does not cap throughput, passes a half-close after the bytes before it,
 * holds bounded memory when the receiver stops reading, and a reset closes its sockets. Benches
 * (bench/bench_download.ts) compare tools through this relay, so it must measure the tools, not
 * itself. Seen failing with the previous relay: bulk (the stream was cut short when the sender
 * half-closed; 44-47 MB/s with delay(20) against 300-600 undelayed, in a scratch run), reset
 * (socket left open), bounded memory (all 512 MB taken in).
 */
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { resetSocket, startTcpProxy, type TcpProxy } from './tcpProxy'

const MB = 1024 * 1024

/** A loopback server whose connections are handed to `onConnection`. */
async function listen(onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {}) // the proxy resets its connections when it closes
    onConnection(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return server
}
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.off('error', reject).on('error', () => {}) // the proxy resets its connections when it closes
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** A server that hashes what one connection sends until its end. */
async function hashingSink(): Promise<{ server: net.Server; digest: Promise<string> }> {
  let resolveDigest!: (sha: string) => void
  const digest = new Promise<string>((r) => (resolveDigest = r))
  const server = await listen((s) => {
    const hash = createHash('sha256')
    s.on('data', (d: Buffer) => hash.update(d))
    s.on('end', () => resolveDigest(hash.digest('hex')))
  })
  return { server, digest }
}

describe('test relay as a latency emulator', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  async function echoThroughProxy(): Promise<TcpProxy> {
    const echo = await listen((s) => s.pipe(s))
    cleanup.push(() => new Promise<void>((r) => echo.close(() => r())))
    const proxy = await startTcpProxy({ targetPort: portOf(echo) })
    cleanup.push(() => proxy.close())
    return proxy
  }

  it('adds the delay to each direction and not more: a 1-byte round trip takes 40 ms longer with delay(20)', async () => {
    const proxy = await echoThroughProxy()
    const socket = await connect(proxy.port)
    cleanup.push(() => void socket.destroy())
    const ping = async () => {
      const t0 = performance.now()
      const back = new Promise<void>((resolve) => socket.once('data', () => resolve()))
      socket.write('x')
      await back
      return performance.now() - t0
    }
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    const twoSleeps = async () => {
      const t0 = performance.now()
      await sleep(20)
      await sleep(20)
      return performance.now() - t0
    }
    // Pass, delay(20), and two 20 ms timers of this process (what waking up twice costs on this
    // machine now: under load a sleeping process waits for a core) alternate, so load hits all three.
    const ms: Record<'pass' | 'delay' | 'sleeps', number[]> = { pass: [], delay: [], sleeps: [] }
    for (let i = 0; i < 15; i++) {
      proxy.pass()
      ms.pass.push(await ping())
      proxy.delay(20)
      ms.delay.push(await ping())
      ms.sleeps.push(await twoSleeps())
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const detail = Object.entries(ms).map(([k, xs]) => `${k} ${xs.map((x) => x.toFixed(1)).join(' ')}`).join('; ')
    expect(Math.min(...ms.delay), detail).toBeGreaterThanOrEqual(39) // never early by more than the timer's 1 ms
    // No more than the two timers themselves (one per direction), plus 2 ms: no extra tick.
    expect(median(ms.delay) - median(ms.pass), detail).toBeLessThan(median(ms.sleeps) + 2)
  })

  it('keeps byte order when the delay shrinks while bytes are still waiting', async () => {
    const proxy = await echoThroughProxy()
    proxy.delay(200)
    const socket = await connect(proxy.port)
    cleanup.push(() => void socket.destroy())
    let got = ''
    socket.on('data', (d: Buffer) => (got += d.toString()))
    socket.write('first ')
    await new Promise((r) => setTimeout(r, 20))
    proxy.pass()
    socket.write('second')
    await expect.poll(() => got, { timeout: 2000 }).toBe('first second')
  })

  it('passes bulk data at line rate: 64 MB with delay(20) arrives intact at ≥ 40% of the undelayed rate', async () => {
    const data = randomBytes(64 * MB)
    const want = createHash('sha256').update(data).digest('hex')
    const rates: Record<'pass' | 'delay', number[]> = { pass: [], delay: [] }
    // Runs alternate, so a burst of load on this shared machine hits both.
    for (let round = 0; round < 2; round++) {
      for (const kind of ['pass', 'delay'] as const) {
        const sink = await hashingSink()
        const proxy = await startTcpProxy({ targetPort: portOf(sink.server) })
        if (kind === 'delay') proxy.delay(20)
        const socket = await connect(proxy.port)
        const t0 = performance.now()
        socket.end(data)
        expect(await sink.digest).toBe(want)
        rates[kind].push(data.length / MB / ((performance.now() - t0) / 1000))
        socket.destroy()
        await proxy.close()
        sink.server.close()
      }
    }
    const detail = `MB/s pass ${rates.pass.map((x) => x.toFixed(0))}, delay ${rates.delay.map((x) => x.toFixed(0))}`
    // On a split-TCP relay a 20 ms delay costs one 20 ms wait, not bandwidth: the old relay (a timer
    // tick per chunk, 64 chunks held) moved 44-47 MB/s here where pass moved 300-600.
    expect(Math.max(...rates.delay), detail).toBeGreaterThan(0.4 * Math.max(...rates.pass))
  }, 60_000)

  it('resets a socket whose end() is under way (resetAndDestroy alone then leaves it open for good)', async () => {
    // Seen as relay processes spinning at 100% CPU after the bench that started them had ended:
    // libuv refuses a reset during a shutdown, and Node then never closes the handle.
    const peers: net.Socket[] = []
    const server = await listen((s) => void peers.push(s))
    cleanup.push(() => {
      peers.forEach((s) => s.destroy())
      server.close()
    })
    const socket = await connect(portOf(server))
    socket.end()
    const closed = new Promise<string>((resolve) => socket.once('close', () => resolve('closed')))
    resetSocket(socket)
    expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 3 s'), 3000))])).toBe('closed')
  })

  it('holds bounded memory when the receiver stops reading: the sender is slowed, not buffered without end', async () => {
    const held: net.Socket[] = []
    const stalled = await listen((s) => {
      s.pause() // never reads
      held.push(s)
    })
    const proxy = await startTcpProxy({ targetPort: portOf(stalled) })
    proxy.delay(20)
    const socket = await connect(proxy.port)
    cleanup.push(() => {
      socket.destroy()
      held.forEach((s) => s.destroy())
      stalled.close()
      return proxy.close()
    })
    const block = Buffer.alloc(MB)
    const pump = () => {
      while (socket.bytesWritten - socket.writableLength < 512 * MB && socket.write(block));
    }
    socket.on('drain', pump)
    pump()
    // Follow progress until the bytes the sender got rid of stop growing.
    const accepted = () => socket.bytesWritten - socket.writableLength
    let last = -1
    for (let still = 0; still < 5; ) {
      await new Promise((r) => setTimeout(r, 100))
      const now = accepted()
      still = now === last ? still + 1 : 0
      last = now
      if (now >= 512 * MB) break
    }
    // 32 MiB in the line + 1 MiB unsent per direction, plus the kernel's socket buffers on both hops.
    expect(last).toBeLessThan(96 * MB)
  }, 60_000)
})
