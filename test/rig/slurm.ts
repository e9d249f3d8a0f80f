/**
 * THE SLURM test rig: a real single-node cluster on this machine (munged with a private socket,
 * slurmctld and slurmd with a temp slurm.conf on private ports, state and logs in a temp folder).
 * Used by vitest and Playwright specs alike; remote/tests/slurm_rig.py is its pytest twin.
 *
 *   import { requireSlurm, startSlurm } from '../../test/rig/slurm'
 *   describe.skipIf(!requireSlurm())('on slurm', () => {
 *     let slurm: SlurmHandle
 *     beforeAll(async () => { slurm = await startSlurm() })
 *     afterAll(() => slurm.stop())
 *     // SLURM commands need slurm.env (SLURM_CONF); an sshd login node gets it with
 *     // startSshd({ extraConfig: [`SetEnv SLURM_CONF=${slurm.conf}`] })
 *   })
 *
 * `stop()` cancels the cluster's jobs, then ends slurmd, slurmctld and munged by their pids.
 *
 * A test run that is killed cannot stop its daemons, so each rig records who started it and the
 * daemons' pids and command lines in its folder (rig-pids.json, the same file the pytest rig
 * writes); the next rig to start, of either kind, stops those of rigs whose starter is gone, by
 * pid and only while the pid's command line is still the recorded one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './sshd'

const BINARIES = ['munged', 'munge', 'slurmctld', 'slurmd', 'sinfo', 'squeue', 'sbatch', 'scontrol', 'scancel']
const INSTALL = 'apt-get install -y --no-install-recommends slurm-wlm munge'
const MUNGE_KEY = '/etc/munge/munge.key'
const RIG_PREFIX = 'gantry-slurm-'
export const PIDS_FILE = 'rig-pids.json'

export interface SlurmHandle {
  dir: string
  /** The temp slurm.conf; every SLURM command needs SLURM_CONF pointing here. */
  conf: string
  /** process.env plus SLURM_CONF. */
  env: NodeJS.ProcessEnv
  /** This machine's hostname: the one node, in partition "debug". */
  node: string
  partition: 'debug'
  /** Runs a SLURM command synchronously; throws with its stderr when it fails. */
  run(args: string[]): string
  /** Resolves once `sinfo` shows the node in `state` (e.g. "idle"). */
  waitNodeState(state: string, timeoutMs?: number): Promise<void>
  /** Cancels every job, stops the daemons by pid, removes the temp folder. Safe to call twice. */
  stop(): Promise<void>
}

function which(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this folder
    }
  }
  return null
}

/** Why the rig cannot run here, or null when it can. */
export function slurmUnavailableReason(): string | null {
  const missing = BINARIES.filter((b) => !which(b))
  if (missing.length) return `SLURM/munge missing (${missing.join(', ')}): ${INSTALL}`
  if (process.getuid?.() !== 0) return 'the SLURM rig runs slurmd as root (it starts jobs as any user); run the tests as root'
  if (!existsSync(MUNGE_KEY)) return `${MUNGE_KEY} is missing: run \`mungekey -c\` (as root) after ${INSTALL}`
  return null
}

/** For `describe.skipIf(!requireSlurm())`: throws under CI=true when SLURM cannot run, else warns and returns false. */
export function requireSlurm(): boolean {
  const reason = slurmUnavailableReason()
  if (!reason) return true
  if (process.env.CI === 'true') throw new Error(reason)
  console.warn(`[skip] ${reason}`)
  return false
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function endPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + 10_000
  while (alive(pid) && Date.now() < deadline) await sleep(50)
  if (alive(pid)) process.kill(pid, 'SIGKILL')
}

/** The process's command line (NULs as spaces), or null when there is no such process. */
export function cmdline(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`).toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ')
    return text || null
  } catch {
    return null
  }
}

interface RecordedProcess {
  pid: number
  cmdline: string
  name?: string
}

function runningAsRecorded(entry: unknown): entry is RecordedProcess {
  const e = entry as Partial<RecordedProcess> | null
  return !!e && Number.isInteger(e.pid) && (e.pid as number) > 1 && typeof e.cmdline === 'string' && cmdline(e.pid as number) === e.cmdline
}

/** Ends the daemons of rigs whose test run died without stopping them; returns what it ended. */
export async function stopStaleRigs(tmp = os.tmpdir()): Promise<RecordedProcess[]> {
  const ended: RecordedProcess[] = []
  for (const name of readdirSync(tmp).filter((n) => n.startsWith(RIG_PREFIX))) {
    const folder = path.join(tmp, name)
    let record: { owner?: unknown; daemons?: unknown }
    try {
      record = JSON.parse(readFileSync(path.join(folder, PIDS_FILE), 'utf8'))
    } catch {
      continue // not a rig that recorded itself
    }
    if (typeof record !== 'object' || record === null || runningAsRecorded(record.owner)) continue // its test run is still going
    for (const entry of Array.isArray(record.daemons) ? record.daemons : []) {
      if (runningAsRecorded(entry)) {
        await endPid(entry.pid)
        ended.push(entry)
      }
    }
    rmSync(folder, { recursive: true, force: true })
  }
  return ended
}

/** Writes who started the rig in `dir` and its daemons so far (atomically). */
function recordRig(dir: string, daemons: RecordedProcess[]): void {
  const record = { owner: { pid: process.pid, cmdline: cmdline(process.pid) }, daemons }
  const temp = path.join(dir, `${PIDS_FILE}.tmp`)
  writeFileSync(temp, JSON.stringify(record))
  renameSync(temp, path.join(dir, PIDS_FILE))
}

async function waitPidFile(file: string, timeoutMs = 10_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pid = pidFrom(file)
    if (pid || Date.now() > deadline) return pid
    await sleep(50)
  }
}

async function startMunged(dir: string): Promise<{ proc: ChildProcess; socket: string }> {
  const key = path.join(dir, 'munge.key')
  copyFileSync(MUNGE_KEY, key)
  chmodSync(key, 0o600)
  const socket = path.join(dir, 'munge.sock')
  const out = openSync(path.join(dir, 'munged.out'), 'a')
  const proc = spawn(
    which('munged')!,
    ['-F', `--socket=${socket}`, `--key-file=${key}`, `--log-file=${path.join(dir, 'munged.log')}`, `--pid-file=${path.join(dir, 'munged.pid')}`, `--seed-file=${path.join(dir, 'munged.seed')}`],
    { stdio: ['ignore', out, out] },
  )
  const deadline = Date.now() + 10_000
  while (!existsSync(socket)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`munged did not start: ${readFileSync(path.join(dir, 'munged.out'), 'utf8')}`)
    await sleep(50)
  }
  return { proc, socket }
}

async function slurmConf(dir: string, node: string, mungeSocket: string, cpus: number): Promise<string> {
  for (const sub of ['state', 'spool']) mkdirSync(path.join(dir, sub))
  const at = (name: string): string => path.join(dir, name)
  const lines = [
    'ClusterName=gantrytest', `SlurmctldHost=${node}`, 'SlurmUser=root', 'SlurmdUser=root',
    `SlurmctldPort=${await freePort()}`, `SlurmdPort=${await freePort()}`,
    'AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${mungeSocket}`,
    `StateSaveLocation=${at('state')}`, `SlurmdSpoolDir=${at('spool')}`,
    `SlurmctldPidFile=${at('slurmctld.pid')}`, `SlurmdPidFile=${at('slurmd.pid')}`,
    `SlurmctldLogFile=${at('slurmctld.log')}`, `SlurmdLogFile=${at('slurmd.log')}`,
    // No cgroups in containers and CI runners: track processes by parentage instead.
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'MpiDefault=none',
    'SchedulerType=sched/backfill', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core',
    'JobCompType=jobcomp/none', 'AccountingStorageType=accounting_storage/none',
    'ReturnToService=2', 'KillWait=10', 'MinJobAge=300',
    // More job slots than cores: test jobs are light, and a 2-core runner must still run a small plan at once.
    'SlurmdParameters=config_overrides',
    `NodeName=${node} CPUs=${cpus} RealMemory=8000 State=UNKNOWN`,
    `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ]
  const conf = at('slurm.conf')
  writeFileSync(conf, lines.join('\n'))
  return conf
}

export async function startSlurm(options: { cpus?: number } = {}): Promise<SlurmHandle> {
  await stopStaleRigs()
  // Not under a 0700 folder: munged refuses a socket whose folder others cannot traverse.
  const dir = mkdtempSync(path.join(os.tmpdir(), RIG_PREFIX))
  chmodSync(dir, 0o755)
  const daemons: RecordedProcess[] = []
  const remember = (name: string, pid: number | null | undefined) => {
    const line = pid ? cmdline(pid) : null
    if (pid && line) daemons.push({ name, pid, cmdline: line })
    recordRig(dir, daemons)
  }
  recordRig(dir, daemons)
  const node = os.hostname()
  const munged = await startMunged(dir)
  remember('munged', munged.proc.pid)
  const conf = await slurmConf(dir, node, munged.socket, options.cpus ?? 4)
  const env = { ...process.env, SLURM_CONF: conf }
  const run = (args: string[]): string => {
    const r = spawnSync(args[0], args.slice(1), { env, encoding: 'utf8', timeout: 30_000 })
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`)
    return r.stdout
  }
  const nodeState = (): string => spawnSync('sinfo', ['-h', '-n', node, '-o', '%T'], { env, encoding: 'utf8' }).stdout?.trim().replace(/\*$/, '') ?? ''
  let stopped = false
  const handle: SlurmHandle = {
    dir,
    conf,
    env,
    node,
    partition: 'debug',
    run,
    async waitNodeState(state, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      let seen = ''
      while (Date.now() < deadline) {
        seen = nodeState()
        if (seen === state) return
        await sleep(200)
      }
      throw new Error(`node ${node} is "${seen}", not "${state}", after ${timeoutMs} ms`)
    },
    async stop() {
      if (stopped) return
      stopped = true
      // Jobs first: a job's slurmstepd outlives slurmd, so end them through SLURM while it runs.
      if (pidFrom(path.join(dir, 'slurmctld.pid'))) {
        spawnSync('scancel', ['--full', `--user=${process.getuid?.() ?? 0}`], { env })
        const deadline = Date.now() + 20_000
        while (Date.now() < deadline && spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' }).stdout?.trim()) await sleep(200)
      }
      for (const daemon of ['slurmd', 'slurmctld']) {
        const pid = pidFrom(path.join(dir, `${daemon}.pid`))
        if (pid) await endPid(pid)
      }
      if (munged.proc.pid && munged.proc.exitCode === null) await endPid(munged.proc.pid)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    for (const daemon of ['slurmctld', 'slurmd']) {
      const r = spawnSync(which(daemon)!, ['-f', conf], { env, encoding: 'utf8', timeout: 30_000 })
      if (r.status !== 0) throw new Error(`${daemon} did not start (${r.status}): ${r.stderr}`)
      remember(daemon, await waitPidFile(path.join(dir, `${daemon}.pid`))) // it daemonized: its pid file names it
    }
    await handle.waitNodeState('idle')
  } catch (error) {
    const log = existsSync(path.join(dir, 'slurmd.log')) ? readFileSync(path.join(dir, 'slurmd.log'), 'utf8').slice(-2000) : ''
    await handle.stop()
    throw new Error(`${(error as Error).message}\n${log}`, { cause: error })
  }
  return handle
}
