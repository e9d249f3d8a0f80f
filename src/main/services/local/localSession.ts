/**
 * "This computer": the same HostSession as an SSH instance, backed by child processes, a local
 * PTY and the local file system. The remote/ code runs straight from the app bundle.
 */
import { spawn as spawnChild } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { stat as statFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as pty from 'node-pty'
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'
import { createBoundedOutput, outputTooLarge, type BoundedOutput } from '../host/boundedOutput'
import type { HostProcess, HostSession, RunOptions, RunResult } from '../host/hostSession'

export interface LocalSessionOptions {
  /** Gantry's folder for local runs (kept inside the app's data folder). */
  root: string
  /** Folder that contains the gantry_remote package. */
  remoteCodeDir: string
  /** Python used for the stdlib-only CLI; GANTRY_PYTHON overrides, default python3. */
  python: string
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}

/**
 * Process groups of the children spawned here, ended with the app. Each child leads its own
 * group so that stopping it also stops what it runs (setup.sh's pip), and so that one kill ends
 * the lot when the app exits. Trainers are not here: the supervisor detaches them with setsid.
 */
const ownedGroups = new Set<number>()

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM')
  } catch {
    // the group has ended already
  }
}

/** Ends every process group spawned by a local session that is still running. */
export function killOwnedProcesses(): void {
  for (const pid of ownedGroups) killGroup(pid)
  ownedGroups.clear()
}

// 'exit' runs on every normal way out (process.exit from a signal handler, Electron quitting).
process.on('exit', killOwnedProcesses)

function childProcess(argv: string[], env: NodeJS.ProcessEnv): HostProcess {
  const child = spawnChild(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  const pid = child.pid
  if (pid !== undefined) ownedGroups.add(pid)
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = []
  let exited: [number | null, string | null] | null = null
  child.on('error', (error) => {
    child.stderr?.emit('data', Buffer.from(`${error.message}\n`))
    if (!exited) {
      exited = [127, null]
      for (const l of exitListeners) l(127, null)
    }
  })
  child.on('close', (code, signal) => {
    if (pid !== undefined) ownedGroups.delete(pid)
    if (exited) return
    exited = [code, signal]
    for (const l of exitListeners) l(code, signal)
  })
  child.stdin?.on('error', () => {})
  return {
    onData(listener) {
      child.stdout?.on('data', (chunk: Buffer) => listener(chunk, 'stdout'))
      child.stderr?.on('data', (chunk: Buffer) => listener(chunk, 'stderr'))
    },
    onExit(listener) {
      if (exited) listener(...exited)
      else exitListeners.push(listener)
    },
    write(data) {
      child.stdin?.write(data)
    },
    resize() {},
    pause() {
      child.stdout?.pause()
      child.stderr?.pause()
    },
    resume() {
      child.stdout?.resume()
      child.stderr?.resume()
    },
    kill() {
      if (pid !== undefined) killGroup(pid)
    },
  }
}

function ptyProcess(file: string, args: string[], size: { cols: number; rows: number }, env: NodeJS.ProcessEnv, cwd: string): HostProcess {
  const term = pty.spawn(file, args, { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd, env: env as Record<string, string> })
  return {
    onData(listener) {
      term.onData((data) => listener(Buffer.from(data, 'utf8'), 'stdout'))
    },
    onExit(listener) {
      term.onExit(({ exitCode, signal }) => listener(exitCode, signal ? String(signal) : null))
    },
    write(data) {
      term.write(typeof data === 'string' ? data : data.toString('utf8'))
    },
    resize(cols, rows) {
      term.resize(Math.max(2, cols), Math.max(1, rows))
    },
    pause() {
      term.pause()
    },
    resume() {
      term.resume()
    },
    kill() {
      term.kill()
    },
  }
}

export function createLocalSession(options: LocalSessionOptions): HostSession {
  const root = path.resolve(expandHome(options.root))
  const env = { ...process.env }
  return {
    instanceId: LOCAL_INSTANCE_ID,
    kind: 'local',
    root,
    gantryCommand() {
      return ['env', `PYTHONPATH=${options.remoteCodeDir}`, options.python, '-m', 'gantry_remote']
    },
    run(argv, runOptions: RunOptions = {}) {
      return new Promise<RunResult>((resolve, reject) => {
        const child = spawnChild(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], signal: runOptions.signal, timeout: runOptions.timeoutMs })
        const out = createBoundedOutput()
        const err = createBoundedOutput()
        const collect = (output: BoundedOutput) => (c: Buffer) => {
          if (output.push(c)) return
          child.kill('SIGKILL')
          reject(outputTooLarge(argv.join(' ').slice(0, 120)))
        }
        child.stdout.on('data', collect(out))
        child.stderr.on('data', collect(err))
        child.on('error', reject)
        child.on('close', (code) => resolve({ code, stdout: out.text(), stderr: err.text() }))
        child.stdin.on('error', () => {})
        child.stdin.end(runOptions.stdin ?? '')
      })
    },
    spawn(argv, spawnOptions) {
      if (spawnOptions?.pty) return ptyProcess(argv[0], argv.slice(1), spawnOptions.pty, env, root)
      return childProcess(argv, env)
    },
    shell(size) {
      const shell = process.env.SHELL || '/bin/bash'
      return ptyProcess(shell, ['-l'], size, { ...env, TERM: 'xterm-256color' }, os.homedir())
    },
    async stat(file) {
      const s = await statFile(expandHome(file))
      return { size: s.size, mtimeMs: s.mtimeMs }
    },
    readRange(file, start, end) {
      return createReadStream(expandHome(file), { start, end: end === undefined ? undefined : end - 1 })
    },
  }
}
