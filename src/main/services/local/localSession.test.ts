// A process Gantry spawns on This computer (set-up: setup.sh and the pip it runs, log tails)
// belongs to the app: stopping it, or the app exiting, ends its children too. Trainers are not
// among them: the supervisor detaches them on purpose (setsid) so they outlive the app.
import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { pidsWhereArgv } from '../../../../test/rig/procs'
import { createLocalSession, killOwnedProcesses } from './localSession'

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** bash running a long foreground child, the shape of setup.sh running pip. */
async function setupLikeProcess(): Promise<{ kill(): void; bash: number; child: number }> {
  const session = createLocalSession({ root: path.join(os.tmpdir(), 'gantry-local-session-test'), remoteCodeDir: '/nonexistent', python: 'python3' })
  const marker = String(randomInt(100_000, 999_999))
  const proc = session.spawn(['bash', '-c', `sleep ${marker}; echo done`])
  let bash: number[] = []
  let child: number[] = []
  await until('bash and its child', () => {
    bash = pidsWhereArgv((a) => a[0] === 'bash' && a[2] === `sleep ${marker}; echo done`)
    child = pidsWhereArgv((a) => a[0] === 'sleep' && a[1] === marker)
    return bash.length === 1 && child.length === 1
  })
  return { kill: () => proc.kill(), bash: bash[0], child: child[0] }
}

describe('local processes end with their owner', () => {
  it('stopping a spawned process also ends the child it is waiting on', async () => {
    const p = await setupLikeProcess()
    p.kill()
    await until('bash and its child to end', () => !alive(p.bash) && !alive(p.child))
    expect([alive(p.bash), alive(p.child)]).toEqual([false, false])
  })

  it('the app exiting ends every process it spawned, children included', async () => {
    const p = await setupLikeProcess()
    killOwnedProcesses()
    await until('bash and its child to end', () => !alive(p.bash) && !alive(p.child))
    expect([alive(p.bash), alive(p.child)]).toEqual([false, false])
  })
})
