/**
 * One live connection to an instance, whatever carries it: SSH (ssh/) or local child processes
 * (local/). Everything above this seam — supervisor control, journal attach, terminals, model
 * downloads — is written once against it.
 */
import type { Readable } from 'node:stream'

export interface HostProcess {
  /** Output in arrival order; `stream` tells stdout from stderr (a PTY has only stdout). */
  onData(listener: (chunk: Buffer, stream: 'stdout' | 'stderr') => void): void
  onExit(listener: (code: number | null, signal: string | null) => void): void
  write(data: string | Buffer): void
  resize(cols: number, rows: number): void
  /** Flow control: stop reading from the host until resume() (terminals use this). */
  pause(): void
  resume(): void
  kill(): void
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer
}

export interface HostFileStat {
  size: number
  mtimeMs: number
}

export interface HostSession {
  readonly instanceId: string
  readonly kind: 'local' | 'ssh'
  /** Gantry's folder on the host (absolute, `~` expanded): runs/, venv/, remote/. */
  readonly root: string
  /**
   * argv that invokes the gantry_remote CLI on this host, e.g.
   * ['env', 'PYTHONPATH=/home/u/.gantry/remote/ab12', 'python3', '-m', 'gantry_remote'].
   * Null until the remote code is on the host (bootstrap uploads it).
   */
  gantryCommand(): string[] | null
  /** Run argv to completion, buffering output (for JSON CLI calls). argv is never shell-joined unquoted. */
  run(argv: string[], options?: RunOptions): Promise<RunResult>
  /** Start argv and stream its output (journal attach, log tails). */
  spawn(argv: string[], options?: { pty?: { cols: number; rows: number } }): HostProcess
  /** An interactive login shell in a PTY. */
  shell(size: { cols: number; rows: number }): HostProcess
  stat(path: string): Promise<HostFileStat>
  /** Bytes [start, end) of a file on the host (end omitted: to EOF). */
  readRange(path: string, start: number, end?: number): Readable
}

export type HostSessionLease = HostSession & { release(): void }
