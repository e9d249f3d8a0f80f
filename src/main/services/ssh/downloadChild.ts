/**
 * The download process: verified model downloads (models/downloader.ts) over an SSH connection of its
 * own, started by models/downloadProcesses.ts with a larger V8 old generation than the app's main
 * process has. Why a process: every downloaded byte passes through several ArrayBuffers, V8
 * counts those against the old generation, and in a small heap that meant 25-35 full collections
 * per 256 MB, the largest single cost of a download on the app's event loop (BENCHMARKS.md,
 * issue #19). Here they are 0-3, and the app's event loop stays free meanwhile.
 *
 * The connection is made exactly as the app makes its own (connect.ts): each hop's host key must
 * match its pin, and a changed key is a hard stop. This process never asks the user anything: a
 * hop without a pin, or a secret it was not given, fails the download with a message saying so.
 * It is a Node child process (Electron's binary as Node in the app) and parses every message it gets.
 */
import type { SFTPWrapper } from 'ssh2'
import { RpcError } from '../../../shared/rpc'
import { containedPath } from '../containedPath'
import { downloadVerified, VerificationError } from '../models/downloader'
import { ChildMessage, describeParseError, ParentMessage, type DownloadConnection, type DownloadHop } from '../models/downloadProtocol'
import { connectInstance, type ConnectDeps, type HopTarget, type OpenConnection } from './connect'
import type { PromptBroker } from './prompts'
import { createSftpSource } from './sftpSource'

interface ParentLink {
  send(message: ChildMessage): void
  onMessage(listener: (raw: unknown) => void): void
  /** Sends a last message, then exits with `code` once it is on its way. */
  sendAndExit(message: ChildMessage, code: number): void
}

function parentLink(): ParentLink {
  const send = process.send?.bind(process)
  if (!send) throw new Error('The download process must be started by Gantry (no message channel to the app).')
  // The app went away (closed or crashed): nothing more will come.
  process.once('disconnect', () => process.exit(0))
  return {
    send: (m) => void send(ChildMessage.parse(m)),
    onMessage: (listener) => process.on('message', listener),
    sendAndExit: (m, code) => void send(ChildMessage.parse(m), undefined, undefined, () => process.exit(code)),
  }
}

/** Stands in for the user, who cannot be asked from here: every question is an error. */
const noQuestions: PromptBroker = {
  ask: async (prompt) => {
    if (prompt.kind === 'host_key') throw new RpcError('host_key_unknown', `The host key of ${prompt.host} is not trusted yet. Connect to the instance first and check its fingerprint, then download again.`)
    throw new RpcError('auth_failed', `The download needs the ${prompt.kind} for ${prompt.host}, which Gantry does not have in memory. Connect to the instance (Gantry asks for it), then download again.`)
  },
  answer: () => {},
  pending: () => [],
  waitedMs: () => 0,
}

function hopTarget(hop: DownloadHop): HopTarget {
  return { role: hop.role, label: hop.label, host: hop.host, port: hop.port, user: hop.user, auth: hop.auth, pin: hop.pin }
}

function connectDeps(spec: DownloadConnection): ConnectDeps {
  const hop = (role: 'host' | 'jump') => (role === 'host' ? spec.host : spec.jump)
  return {
    instanceId: 'download',
    prompts: noQuestions,
    secret: async (role, kind) => hop(role)?.secrets[kind] ?? null,
    rememberSecret: () => {},
    forgetSecret: () => {},
    savePin: async () => {
      throw new RpcError('host_key_unknown', 'The download process cannot trust a new host key.')
    },
    agentSocket: spec.agentSocket ?? undefined,
    keepaliveIntervalMs: spec.keepaliveIntervalMs,
    keepaliveCountMax: spec.keepaliveCountMax,
    readyTimeoutMs: spec.readyTimeoutMs,
  }
}

interface Live {
  conn: OpenConnection
  sftp: SFTPWrapper
}

/** What the connection was made to, secrets left out: a download for other settings reconnects. */
function connectionKey(spec: DownloadConnection): string {
  const hop = (h: DownloadHop | null) => h && { ...h, secrets: null }
  return JSON.stringify({ ...spec, host: hop(spec.host), jump: hop(spec.jump) })
}

function openSftp(conn: OpenConnection): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) =>
    conn.client.sftp((error, sftp) => (error ? reject(new RpcError('remote_failed', `The host does not offer SFTP (${error.message}). Enable the sftp subsystem in its sshd_config.`)) : resolve(sftp))),
  )
}

function main(): void {
  const link = parentLink()
  const jobs = new Map<number, AbortController>()
  let live: Promise<Live> | null = null
  let liveKey = ''

  /** The connection, made on first use, again after it dropped or when the instance's settings changed. */
  const connection = (spec: DownloadConnection): Promise<Live> => {
    const key = connectionKey(spec)
    if (live && key !== liveKey) {
      const old = live
      live = null
      // Downloads still on the old connection fail there and resume on the new one.
      void old.then((l) => l.conn.close(), () => {})
    }
    if (!live) {
      liveKey = key
      const pending = (async () => {
        const conn = await connectInstance(hopTarget(spec.host), spec.jump && hopTarget(spec.jump), connectDeps(spec))
        const forget = () => {
          if (live === pending) live = null
        }
        conn.client.on('close', forget)
        conn.client.on('error', forget)
        try {
          return { conn, sftp: await openSftp(conn) }
        } catch (error) {
          conn.close()
          throw error
        }
      })()
      live = pending
      pending.catch(() => {
        if (live === pending) live = null
      })
    }
    return live
  }

  const download = async (m: Extract<ParentMessage, { type: 'download' }>) => {
    const controller = new AbortController()
    jobs.set(m.id, controller)
    try {
      const dest = await containedPath(m.root, ...m.segments)
      const { sftp } = await connection(m.connection)
      const result = await downloadVerified({
        source: createSftpSource(sftp),
        remotePath: m.remotePath,
        expectedSha256: m.expectedSha256,
        expectedSize: m.expectedSize,
        dest,
        signal: controller.signal,
        onProgress: (p) => link.send({ type: 'progress', id: m.id, received: p.received, total: p.total, bytesPerSec: p.bytesPerSec }),
      })
      link.send({ type: 'done', id: m.id, ...result })
    } catch (error) {
      const cancelled = controller.signal.aborted
      const code = cancelled ? 'cancelled' : error instanceof RpcError ? error.code : 'internal'
      link.send({ type: 'failed', id: m.id, code, message: error instanceof Error ? error.message : String(error), mismatch: error instanceof VerificationError, cancelled })
    } finally {
      jobs.delete(m.id)
    }
  }

  link.onMessage((raw) => {
    const parsed = ParentMessage.safeParse(raw)
    if (!parsed.success) {
      // Only a bug in the app sends this; stop rather than guess (the app reports the exit).
      link.sendAndExit({ type: 'protocol_error', message: `The download process got a message it does not understand (${describeParseError(parsed.error)}).` }, 2)
      return
    }
    const m = parsed.data
    if (m.type === 'cancel') jobs.get(m.id)?.abort()
    else void download(m)
  })
}

main()
