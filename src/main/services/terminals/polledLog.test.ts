/**
 * A game log on a SLURM cluster instance is read by polling (short `tail -c +N | head -c` reads)
 * instead of a long-lived `tail -F` on the login node: backlog, then new lines exactly once, with
 * multi-byte characters intact, and no follower process left on the host.
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

const ctx: CallContext = { connectionId: 'c1', transport: 'ws', signal: new AbortController().signal }

describe.skipIf(!havePython())('polled game log (SLURM instance)', () => {
  let rig: LocalRig
  beforeAll(() => {
    rig = createLocalRig()
  })
  afterAll(() => rig.cleanup())

  it('shows the backlog, then each new line once, with no tail -F on the host', async () => {
    const bus = createEventBus()
    const service = createTerminalsService({ bus, hosts: createHostRegistry(rig.session), log: () => {}, instanceSlurm: () => ({ partition: 'debug' }) })
    let output = ''
    const conn = bus.connect('c1', (e) => {
      if (e.topic === 'terminals.data') output += (e.payload as { data: string }).data
    })
    conn.subscribe('terminals.data')
    const dir = path.join(rig.root, 'runs', 'r1', 'games', 'breakout')
    const log = path.join(dir, 'train.log')
    mkdirSync(dir, { recursive: true })
    writeFileSync(log, 'first line\n')
    const { terminalId } = await service.api['terminals.open']({ instanceId: 'local', kind: 'log', runId: 'r1', game: 'breakout', cols: 80, rows: 24 }, ctx)
    await service.api['terminals.ack']({ terminalId, chars: 0 }, ctx)
    await expect.poll(() => output, { timeout: 10_000 }).toContain('first line')
    appendFileSync(log, 'job 7 requeued ü\npartial')
    await expect.poll(() => output, { timeout: 10_000 }).toContain('job 7 requeued ü')
    expect(output).not.toContain('partial') // only whole lines: the rest comes with its newline
    appendFileSync(log, ' line done\n')
    await expect.poll(() => output, { timeout: 10_000 }).toContain('partial line done')
    for (const line of ['first line', 'job 7 requeued ü', 'partial line done']) expect(output.split(line).length - 1).toBe(1)
    expect(pidsWhereArgv((argv) => argv[0] === 'tail' && argv.includes('-F') && argv.includes(log))).toEqual([])
    await service.api['terminals.close']({ terminalId }, ctx)
    conn.close()
  })
})
