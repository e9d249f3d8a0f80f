/**
 * Terminals over the real local HostSession: a PTY shell, a followed log, and a flood that must
 * stay bounded by acks (the host stream is really paused: the writer blocks on a full pipe).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pidsWhereArgv } from '../../../../test/rig/procs'
import type { CallContext } from '../../../shared/contract'
import { createEventBus } from '../eventBus'
import { createHostRegistry } from '../host/hostRegistry'
import { createLocalRig, havePython, type LocalRig } from '../../../../test/support/localRig'
import { createTerminalsService } from './terminalsService'
import { HIGH_WATER_CHARS } from './flowControl'

/** Pids of the `tail -F` processes following `file`. */
const followerPids = (file: string): number[] => pidsWhereArgv((argv) => argv[0] === 'tail' && argv.includes(file))

const ctx = (connectionId: string): CallContext => ({ connectionId, transport: 'ws', signal: new AbortController().signal })

describe.skipIf(!havePython())('terminals service (local host)', () => {
  let rig: LocalRig
  beforeAll(() => {
    rig = createLocalRig()
  })
  afterAll(() => rig.cleanup())

  function setup() {
    const bus = createEventBus()
    const service = createTerminalsService({ bus, hosts: createHostRegistry(rig.session), log: () => {} })
    const output = new Map<string, string>()
    const exits: string[] = []
    const conn = bus.connect('c1', (e) => {
      const p = e.payload as { terminalId: string; data?: string }
      if (e.topic === 'terminals.data') output.set(p.terminalId, (output.get(p.terminalId) ?? '') + p.data)
      if (e.topic === 'terminals.exit') exits.push(p.terminalId)
    })
    conn.subscribe('terminals.data')
    conn.subscribe('terminals.exit')
    return { bus, service, output, exits, conn }
  }

  it('runs a shell in a PTY: typed input, output back, resize, exit on close of the connection', async () => {
    const { service, output, conn } = setup()
    const { terminalId } = await service.api['terminals.open']({ instanceId: 'local', kind: 'shell', cols: 80, rows: 24 }, ctx('c1'))
    await service.api['terminals.ack']({ terminalId, chars: 0 }, ctx('c1'))
    await service.api['terminals.write']({ terminalId, data: 'echo "sum=$((40+2))"\r' }, ctx('c1'))
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('sum=42')
    await service.api['terminals.resize']({ terminalId, cols: 100, rows: 30 }, ctx('c1'))
    await service.api['terminals.write']({ terminalId, data: 'stty size\r' }, ctx('c1'))
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('30 100')
    // Another connection cannot drive this terminal.
    await expect(service.api['terminals.write']({ terminalId, data: 'x' }, ctx('c2'))).rejects.toThrow(/closed/)
    // The connection goes away (window closed): its terminals are closed with it.
    expect(service.inspect(terminalId)).not.toBeNull()
    conn.close()
    expect(service.inspect(terminalId)).toBeNull()
  })

  it('follows a game log with its backlog, then new lines', async () => {
    const { service, output } = setup()
    const dir = path.join(rig.root, 'runs', 'r1', 'games', 'breakout')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'train.log'), Array.from({ length: 600 }, (_, i) => `old line ${i}\n`).join(''))
    const { terminalId, title } = await service.api['terminals.open']({ instanceId: 'local', kind: 'log', runId: 'r1', game: 'breakout', cols: 80, rows: 24 }, ctx('c1'))
    expect(title).toBe('breakout log')
    await service.api['terminals.ack']({ terminalId, chars: 0 }, ctx('c1'))
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('old line 599')
    expect(output.get(terminalId)).not.toContain('old line 99\n') // only the last 500 lines
    appendFileSync(path.join(dir, 'train.log'), 'fresh line ü\n')
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('fresh line ü')
    await service.api['terminals.close']({ terminalId }, ctx('c1'))
  })

  it('continues a followed log from the same byte after its stream drops: nothing lost, nothing twice', async () => {
    const { service, output } = setup()
    const dir = path.join(rig.root, 'runs', 'r3', 'games', 'asterix')
    const log = path.join(dir, 'train.log')
    mkdirSync(dir, { recursive: true })
    writeFileSync(log, 'before open\n')
    const { terminalId } = await service.api['terminals.open']({ instanceId: 'local', kind: 'log', runId: 'r3', game: 'asterix', cols: 80, rows: 24 }, ctx('c1'))
    await service.api['terminals.ack']({ terminalId, chars: 0 }, ctx('c1'))
    appendFileSync(log, 'while following ü\n')
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('while following ü')
    // The stream dies (as a dropped connection kills it); lines keep arriving meanwhile.
    const [tail] = followerPids(log)
    expect(tail).toBeGreaterThan(0)
    process.kill(tail, 'SIGKILL')
    appendFileSync(log, 'while away\n')
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('while away')
    appendFileSync(log, 'after reconnect\n')
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toContain('after reconnect')
    const text = output.get(terminalId)!
    const byteAfterFirstTwoLines = Buffer.byteLength('before open\nwhile following ü\n')
    expect(text).toContain(`continuing from byte ${byteAfterFirstTwoLines}`)
    for (const line of ['before open', 'while following ü', 'while away', 'after reconnect']) expect(text.split(line).length - 1).toBe(1)
    expect(followerPids(log)).not.toContain(tail)
    await service.api['terminals.close']({ terminalId }, ctx('c1'))
  })

  it('keeps a flood bounded: without acks it pauses the host stream; acks let it continue', async () => {
    const { service, output } = setup()
    const dir = path.join(rig.root, 'runs', 'r2', 'games', 'pong')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'train.log'), 'ready\n')
    const { terminalId } = await service.api['terminals.open']({ instanceId: 'local', kind: 'log', runId: 'r2', game: 'pong', cols: 80, rows: 24 }, ctx('c1'))
    await service.api['terminals.ack']({ terminalId, chars: 0 }, ctx('c1'))
    // The backlog has been read (and the follow offset fixed) once its line is shown; the flood comes after it.
    await expect.poll(() => output.get(terminalId) ?? '', { timeout: 10_000 }).toBe('ready\n')
    // 20 MB appear in the log at once: far more than the window.
    const line = `${'x'.repeat(99)}\n`
    appendFileSync(path.join(dir, 'train.log'), line.repeat(200_000))
    await expect.poll(() => service.inspect(terminalId)?.paused, { timeout: 10_000 }).toBe(true)
    await new Promise((r) => setTimeout(r, 500))
    const stalled = service.inspect(terminalId)!
    // Bounded: the window plus what was already in flight from one read (pipe/highWaterMark).
    expect(stalled.unacked).toBeLessThan(HIGH_WATER_CHARS + 256 * 1024)
    const received = (output.get(terminalId) ?? '').length
    await new Promise((r) => setTimeout(r, 500))
    expect((output.get(terminalId) ?? '').length).toBe(received) // nothing more while unacked
    // Ack as a renderer would; the stream resumes and everything arrives in order.
    let acked = 0
    const deadline = Date.now() + 60_000
    const expected = `ready\n${line.repeat(200_000)}`
    while (acked < expected.length && Date.now() < deadline) {
      const total = (output.get(terminalId) ?? '').length
      if (total > acked) {
        await service.api['terminals.ack']({ terminalId, chars: total - acked }, ctx('c1'))
        acked = total
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(acked).toBe(expected.length)
    expect(output.get(terminalId)).toBe(expected)
    await service.api['terminals.close']({ terminalId }, ctx('c1'))
  }, 90_000)
})
