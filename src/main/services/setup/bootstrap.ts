/**
 * The one-click "Set up": make sure the host has this version of remote/ (upload when missing),
 * run its stdlib-only doctor, then run setup.sh with its output streamed to the Setup view's
 * terminal and its GANTRY_STEP lines turned into checklist rows.
 */
import { StringDecoder } from 'node:string_decoder'
import type { SFTPWrapper } from 'ssh2'
import { DoctorReport, type SetupResult, type SetupStep } from '../../../shared/api/setup'
import { RpcError } from '../../../shared/rpc'
import type { HostSession, RunResult } from '../host/hostSession'
import { createOutputBatcher, SetupChecklist } from './bootstrapOutput'
import { uploadBundle, type Bundle } from './remoteBundle'

export interface BootstrapTarget {
  session: HostSession
  /** SFTP for uploads (ssh); null for "This computer", which runs the bundle in place. */
  sftp: (() => Promise<SFTPWrapper>) | null
  bundle: Bundle
}

export interface SetupOptions {
  /** Python setup.sh should build the venv from (default: its own choice; GANTRY_PYTHON locally). */
  python?: string | null
  /** Extra pip arguments, e.g. "--retries 0" or an index URL. */
  pipArgs?: string | null
  force?: boolean
  onOutput(data: string): void
  onSteps(steps: SetupStep[], running: boolean): void
  signal?: AbortSignal
}

/** Folder on the host that holds gantry_remote and setup.sh. */
export function codeDir(target: BootstrapTarget): string {
  return target.sftp ? `${target.session.root}/remote/${target.bundle.hash}` : target.bundle.dir
}

async function ensureBundle(target: BootstrapTarget, onLine: (line: string) => void): Promise<boolean> {
  if (!target.sftp) return false
  return uploadBundle(target.session, await target.sftp(), target.bundle, onLine)
}

const DOCTOR_TIMEOUT_MS = 180_000
/** The doctor's stderr kept for an error message (its progress lines; the answer is on stdout). */
const MAX_DOCTOR_STDERR = 64 * 1024

/** Runs argv, handing its stderr to `onStderr` as it arrives; kills it after `timeoutMs` or on abort. */
function runStreamingStderr(session: HostSession, argv: string[], onStderr: (text: string) => void, timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = session.spawn(argv)
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }
    let stdout = ''
    let stderr = ''
    const stop = () => proc.kill()
    const timer = setTimeout(stop, timeoutMs)
    signal?.addEventListener('abort', stop, { once: true })
    proc.onData((chunk, stream) => {
      const text = decoders[stream].write(chunk)
      if (stream === 'stdout') stdout += text
      else {
        stderr = (stderr + text).slice(-MAX_DOCTOR_STDERR)
        onStderr(text)
      }
    })
    proc.onExit((code) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', stop)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * `extraArgs`: `--slurm --partition P` for a SLURM cluster's login node, which adds a short test
 * job whose state and output the doctor prints on stderr as they arrive: `onOutput` gets them
 * (terminal-ready, CRLF) while the doctor runs.
 */
export async function runDoctor(target: BootstrapTarget, python = 'python3', extraArgs: string[] = [], onOutput?: (data: string) => void, signal?: AbortSignal): Promise<DoctorReport> {
  await ensureBundle(target, () => {})
  const out = createOutputBatcher(onOutput ?? (() => {}))
  const argv = ['env', `PYTHONPATH=${codeDir(target)}`, python, '-m', 'gantry_remote', 'doctor', '--json', '--root', target.session.root, ...extraArgs]
  const result = await runStreamingStderr(target.session, argv, (text) => out.push(text.replace(/\r?\n/g, '\r\n')), DOCTOR_TIMEOUT_MS, signal)
  out.flush()
  if (result.code === 127 || /command not found|No such file/.test(result.stderr) && !result.stdout.trim()) {
    throw new RpcError('remote_failed', `The host has no ${python} (${result.stderr.trim().split('\n').pop()}). Install Python 3 on the host (e.g. apt-get install python3 python3-venv) and try again.`)
  }
  if (result.code === null && !result.stdout.trim()) throw new RpcError('remote_failed', `The host's doctor check did not finish within ${DOCTOR_TIMEOUT_MS / 1000} s or its connection dropped. Check the connection and try again.`)
  let json: unknown
  try {
    json = JSON.parse(result.stdout.trim().split('\n').pop() ?? '')
  } catch {
    throw new RpcError('remote_failed', `The host's doctor check did not answer with JSON (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(-300)}`)
  }
  const parsed = DoctorReport.safeParse(json)
  if (!parsed.success) throw new RpcError('remote_failed', `The host's doctor check answered in an unexpected shape (${parsed.error.issues[0]?.message}). Gantry and the host code may be out of step; set the host up again.`)
  return parsed.data
}

export async function runSetup(target: BootstrapTarget, options: SetupOptions): Promise<SetupResult> {
  const started = Date.now()
  const checklist = new SetupChecklist()
  const out = createOutputBatcher(options.onOutput)
  const publish = (running: boolean) => options.onSteps(checklist.steps.map((s) => ({ ...s })), running)
  const say = (line: string) => out.push(`\x1b[36m${line}\x1b[0m\r\n`)

  checklist.set('upload', 'running', target.sftp ? 'checking the host' : 'runs in place on this computer')
  publish(true)
  let uploaded: boolean
  try {
    uploaded = await ensureBundle(target, say)
    checklist.set('upload', target.sftp ? (uploaded ? 'ok' : 'skip') : 'skip', target.sftp ? (uploaded ? `uploaded ${target.bundle.files.length} files (${target.bundle.hash})` : `already on the host (${target.bundle.hash})`) : 'not needed on this computer')
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    checklist.set('upload', 'fail', message)
    publish(false)
    out.flush()
    return { ok: false, uploaded: false, remoteHash: target.bundle.hash, steps: checklist.steps, durationMs: Date.now() - started, message: `Uploading Gantry's host code failed: ${message}` }
  }
  publish(true)

  const argv = ['bash', `${codeDir(target)}/setup.sh`, '--root', target.session.root, '--stamp', target.bundle.hash]
  if (options.python) argv.push('--python', options.python)
  if (options.pipArgs) argv.push('--pip-args', options.pipArgs)
  if (options.force) argv.push('--force')
  say(`$ ${argv.join(' ')}`)

  const code = await new Promise<number | null>((resolve) => {
    const proc = target.session.spawn(argv)
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }
    const onAbort = () => proc.kill()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    proc.onData((chunk, stream) => {
      const text = decoders[stream].write(chunk)
      // Terminals want CRLF; pip's progress bars already use bare CR.
      out.push(text.replace(/\r?\n/g, '\r\n'))
      if (stream === 'stdout' && checklist.feed(text)) publish(true)
    })
    proc.onExit((exitCode) => {
      options.signal?.removeEventListener('abort', onAbort)
      resolve(exitCode)
    })
  })
  checklist.flush()
  const result = checklist.result
  let ok = code === 0 && result?.ok === true
  if (!result) {
    // The script died without a verdict: blame the step that was running, with the last line.
    const running = checklist.running()
    const why = code === null ? 'the connection dropped or the script was stopped' : `setup.sh exited with ${code}`
    checklist.set(running?.id ?? 'python', 'fail', `${why}: ${checklist.lastLine || 'no output'}`)
    ok = false
  }
  for (const s of checklist.steps) if (s.status === 'running') s.status = ok ? 'ok' : 'fail'
  publish(false)
  out.flush()
  const failed = checklist.steps.find((s) => s.status === 'fail')
  return {
    ok,
    uploaded,
    remoteHash: target.bundle.hash,
    steps: checklist.steps,
    durationMs: Date.now() - started,
    message: ok ? `Set up in ${Math.round((Date.now() - started) / 1000)} s.` : `Setup failed at "${failed?.label ?? 'setup'}": ${failed?.message ?? 'see the output'}. Fix the cause shown in the output and click Set up again.`,
  }
}
