/**
 * HostSession over ssh2: exec with argv quoted by shellJoin (the one quoting function), PTY
 * shells, and SFTP stat/ranged reads. The pool owns the connection and may replace it after a
 * drop; operations wait for the current one. A process started on a connection that drops ends
 * with exit code null and signal "connection_lost" (the caller re-attaches).
 */
import { PassThrough, type Readable } from 'node:stream'
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2'
import { RpcError } from '../../../shared/rpc'
import { createBoundedOutput, outputTooLarge, type BoundedOutput } from '../host/boundedOutput'
import type { HostProcess, HostSession, HostFileStat, RunOptions, RunResult } from '../host/hostSession'
import { shellJoin } from '../host/shellQuote'
import { createSftpSource } from './sftpSource'

export interface SshLink {
  /** The live client; waits while (re)connecting; rejects when the instance failed. */
  client(): Promise<Client>
  /** SFTP on the live client, opened once per connection. */
  sftp(): Promise<SFTPWrapper>
}

export interface SshSessionInfo {
  instanceId: string
  /** Absolute remote root (`~` already expanded with the host's $HOME). */
  root: string
  /** Remote $HOME, to expand `~/` in paths given to stat/readRange. */
  home: string
  /** Content hash of the uploaded remote/ bundle, or null before bootstrap. */
  remoteHash(): string | null
}

export const CONNECTION_LOST = 'connection_lost'

function remotePath(home: string, p: string): string {
  if (p === '~') return home
  if (p.startsWith('~/')) return `${home}/${p.slice(2)}`
  return p
}

function exec(client: Client, command: string, pty?: { cols: number; rows: number }): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const opts = pty ? { pty: { cols: pty.cols, rows: pty.rows, term: 'xterm-256color' } } : {}
    client.exec(command, opts, (error, channel) => (error ? reject(new RpcError('unreachable', `The host refused to start a command: ${error.message}. Try again.`)) : resolve(channel)))
  })
}

/** A HostProcess around a channel that may not exist yet. */
function channelProcess(open: Promise<ClientChannel>): HostProcess {
  const dataListeners: Array<(chunk: Buffer, stream: 'stdout' | 'stderr') => void> = []
  const exitListeners: Array<(code: number | null, signal: string | null) => void> = []
  let exited: [number | null, string | null] | null = null
  let channel: ClientChannel | null = null
  const pendingWrites: Array<string | Buffer> = []
  let pendingResize: [number, number] | null = null
  let paused = false
  let killed = false

  const finish = (code: number | null, signal: string | null) => {
    if (exited) return
    exited = [code, signal]
    for (const l of exitListeners) l(code, signal)
  }
  open.then(
    (ch) => {
      channel = ch
      if (killed) {
        ch.close()
        return
      }
      let code: number | null = null
      let signal: string | null = null
      ch.on('exit', (c: number | null, s?: string) => {
        code = c
        signal = s ?? null
      })
      ch.on('data', (chunk: Buffer) => dataListeners.forEach((l) => l(chunk, 'stdout')))
      ch.stderr.on('data', (chunk: Buffer) => dataListeners.forEach((l) => l(chunk, 'stderr')))
      // 'close' without 'exit' means the connection went away under the command.
      ch.on('close', () => finish(code, code === null && signal === null ? CONNECTION_LOST : signal))
      ch.on('error', () => {})
      for (const w of pendingWrites.splice(0)) ch.write(w)
      if (pendingResize) ch.setWindow(pendingResize[1], pendingResize[0], 0, 0)
      if (paused) ch.pause()
    },
    (error: Error) => {
      dataListeners.forEach((l) => l(Buffer.from(`${error.message}\n`), 'stderr'))
      finish(null, CONNECTION_LOST)
    },
  )
  return {
    onData(listener) {
      dataListeners.push(listener)
    },
    onExit(listener) {
      if (exited) listener(...exited)
      else exitListeners.push(listener)
    },
    write(data) {
      if (channel) channel.write(data)
      else pendingWrites.push(data)
    },
    resize(cols, rows) {
      if (channel) channel.setWindow(rows, cols, 0, 0)
      else pendingResize = [cols, rows]
    },
    pause() {
      paused = true
      channel?.pause()
    },
    resume() {
      paused = false
      channel?.resume()
    },
    kill() {
      killed = true
      if (!channel) return
      // OpenSSH honours "signal" requests; closing the channel also hangs up a PTY.
      try {
        channel.signal('TERM')
      } catch {
        // older servers
      }
      channel.close()
    },
  }
}

export function createSshSession(link: SshLink, info: SshSessionInfo): HostSession {
  return {
    instanceId: info.instanceId,
    kind: 'ssh',
    root: info.root,
    gantryCommand() {
      const hash = info.remoteHash()
      return hash ? ['env', `PYTHONPATH=${info.root}/remote/${hash}`, 'python3', '-m', 'gantry_remote'] : null
    },
    async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
      const client = await link.client()
      const channel = await exec(client, shellJoin(argv))
      return new Promise<RunResult>((resolve, reject) => {
        const out = createBoundedOutput()
        const err = createBoundedOutput()
        let code: number | null = null
        let gotExit = false
        let timer: NodeJS.Timeout | undefined
        const stop = (error: Error) => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          try {
            channel.signal('KILL')
          } catch {
            // ignore
          }
          channel.close()
          reject(error)
        }
        const onAbort = () => stop(Object.assign(new Error('The command was cancelled.'), { name: 'AbortError' }))
        if (options.signal?.aborted) return onAbort()
        options.signal?.addEventListener('abort', onAbort, { once: true })
        if (options.timeoutMs) timer = setTimeout(() => stop(new RpcError('remote_failed', `The command ${argv[0]} did not finish within ${Math.round(options.timeoutMs! / 1000)} s on the host.`)), options.timeoutMs)
        const collect = (output: BoundedOutput) => (c: Buffer) => {
          if (!output.push(c)) stop(outputTooLarge(argv.join(' ').slice(0, 120)))
        }
        channel.on('data', collect(out))
        channel.stderr.on('data', collect(err))
        channel.on('exit', (c: number | null) => {
          gotExit = true
          code = c
        })
        channel.on('error', () => {})
        channel.on('close', () => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          if (!gotExit && code === null) {
            reject(new RpcError('unreachable', `The connection to the host dropped while running ${argv[0]}. Gantry reconnects by itself; try again in a moment.`))
            return
          }
          resolve({ code, stdout: out.text(), stderr: err.text() })
        })
        channel.end(options.stdin ?? '')
      })
    },
    spawn(argv, options) {
      return channelProcess(link.client().then((client) => exec(client, shellJoin(argv), options?.pty)))
    },
    shell(size) {
      return channelProcess(
        link.client().then(
          (client) =>
            new Promise<ClientChannel>((resolve, reject) =>
              client.shell({ cols: size.cols, rows: size.rows, term: 'xterm-256color' }, (error, channel) => (error ? reject(new RpcError('unreachable', `The host refused to open a shell: ${error.message}.`)) : resolve(channel))),
            ),
        ),
      )
    },
    async stat(file): Promise<HostFileStat> {
      const sftp = await link.sftp()
      return new Promise((resolve, reject) =>
        sftp.stat(remotePath(info.home, file), (error, stats) => {
          if (error) {
            const code = (error as Error & { code?: number }).code
            reject(code === 2 ? Object.assign(new Error(`No such file on the host: ${file}`), { code: 'ENOENT' }) : error)
          } else resolve({ size: stats.size, mtimeMs: stats.mtime * 1000 })
        }),
      )
    },
    readRange(file, start, end): Readable {
      const out = new PassThrough()
      if (end !== undefined && end <= start) {
        out.end()
        return out
      }
      // Many reads in flight (like OpenSSH's sftp): one request at a time crawls on a real link.
      link.sftp().then(
        (sftp) => {
          const stream = createSftpSource(sftp).readRange(remotePath(info.home, file), start, end)
          stream.on('error', (error: Error) => out.destroy(error))
          stream.pipe(out)
        },
        (error: Error) => out.destroy(error),
      )
      return out
    },
  }
}
