/**
 * The download process (ssh/downloadChild.ts, bundled as the app bundles it) against a real OpenSSH
 * sshd: its own verified connection, the process boundary (bad messages both ways, the process
 * killed mid-download, cancel) and the app's event loop staying free meanwhile. The download
 * engine itself (resume after a reset, sha mismatch, ENOSPC, flow control) is tested in
 * downloader.test.ts.
 */
import { fork, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { build } from 'esbuild'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { writeRandomFile } from '../../../../test/rig/randomFile'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { pinFor } from '../ssh/hostKeys'
import { partPaths, VerificationError } from './downloader'
import { createDownloadProcesses, type DownloadProcesses } from './downloadProcesses'
import type { DownloadConnection } from './downloadProtocol'

const MB = 1024 * 1024
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..')

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** Pids of this test's download processes (children of this process running the bundle). */
function downloadChildPids(modulePath: string): number[] {
  const out = spawnSync('pgrep', ['-P', String(process.pid), '-f', modulePath], { encoding: 'utf8' }).stdout
  return out.split('\n').filter(Boolean).map(Number)
}

describe.skipIf(!requireSshd())('download process (real sshd)', () => {
  let sshd: SshdHandle
  let work: string
  let modulePath: string
  let big: string
  let bigSha: string
  let processes: DownloadProcesses
  let connection: DownloadConnection

  beforeAll(async () => {
    sshd = await startSshd()
    work = mkdtempSync(path.join(os.tmpdir(), 'gantry-dlproc-'))
    // Bundled like `npm run build:web` does; inside the repo so `ssh2` and `zod` resolve.
    modulePath = path.join(REPO_ROOT, 'out', 'test', `downloadChild-${process.pid}.js`)
    await build({ entryPoints: [path.join(__dirname, '..', 'ssh', 'downloadChild.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', outfile: modulePath, logLevel: 'warning' })
    big = path.join(work, 'remote-big.bin')
    bigSha = writeRandomFile(big, 96 * MB)
    const blob = Buffer.from(sshd.hostPublicKey.split(' ')[1], 'base64')
    connection = {
      host: { role: 'host', label: 'test sshd', host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath, hasPassphrase: false }, pin: pinFor(blob), secrets: { passphrase: null, password: null } },
      jump: null,
      agentSocket: null,
    }
  }, 120_000)

  afterEach(() => processes?.dispose())

  afterAll(async () => {
    await sshd?.stop()
    if (work) rmSync(work, { recursive: true, force: true })
    if (modulePath) rmSync(modulePath, { force: true })
  })

  const request = (root: string, name: string, overrides: Partial<Parameters<DownloadProcesses['download']>[0]> = {}) => ({
    instanceId: 'gpu-1',
    connection,
    remotePath: big,
    expectedSha256: bigSha,
    expectedSize: 96 * MB,
    root,
    segments: ['run-1', name],
    ...overrides,
  })

  it('downloads byte-identical in its own process while the app event loop stays free', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'ok')
    const progress: number[] = []
    const before = performance.eventLoopUtilization()
    const result = await processes.download({ ...request(root, 'model.onnx'), onProgress: (p) => progress.push(p.received) })
    const busy = performance.eventLoopUtilization(before).utilization
    expect(result).toEqual({ path: path.join(root, 'run-1', 'model.onnx'), size: 96 * MB, sha256: bigSha, resumedFrom: 0 })
    expect(sha256Of(result.path)).toBe(bigSha)
    expect(progress.at(-1)).toBe(96 * MB)
    // In this process the same download kept the loop 80-90% busy (BENCHMARKS.md, issue #19).
    expect(busy).toBeLessThan(0.5)
    expect(existsSync(partPaths(result.path).part)).toBe(false)
  }, 120_000)

  it('stops at a changed host key: nothing is written', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'changed-key')
    const pin = { keyType: 'ssh-ed25519', fingerprint: 'SHA256:' + 'A'.repeat(43), publicKey: '', pinnedAt: Date.UTC(2026, 0, 2) }
    const error = await processes.download(request(root, 'model.onnx', { connection: { ...connection, host: { ...connection.host, pin } } })).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'host_key_changed' })
    expect((error as Error).message).toMatch(/Host key for test sshd changed since you trusted it/)
    expect(existsSync(path.join(root, 'run-1'))).toBe(false)
  }, 60_000)

  it('refuses a destination outside its root, checked in the download process', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'contained')
    const error = await processes.download(request(root, 'x', { segments: ['..', 'escaped.onnx'] })).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid_input' })
    expect(existsSync(path.join(work, 'escaped.onnx'))).toBe(false)
  }, 60_000)

  it('reports a sha256 mismatch as a VerificationError and keeps no part', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'mismatch')
    const error = await processes.download(request(root, 'model.onnx', { expectedSha256: '0'.repeat(64) })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as Error).message).toMatch(/failed verification/)
    expect(existsSync(path.join(root, 'run-1', 'model.onnx'))).toBe(false)
    expect(existsSync(partPaths(path.join(root, 'run-1', 'model.onnx')).part)).toBe(false)
  }, 60_000)

  it('a download process killed mid-download fails with a clear error, and the next download resumes byte-identical', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'killed')
    const dest = path.join(root, 'run-1', 'model.onnx')
    let killed = false
    const error = await processes
      .download({
        ...request(root, 'model.onnx'),
        onProgress: (p) => {
          if (killed || p.received < 24 * MB) return
          killed = true
          const pids = downloadChildPids(modulePath)
          expect(pids).toHaveLength(1)
          process.kill(pids[0], 'SIGKILL')
        },
      })
      .catch((e: unknown) => e)
    expect(killed).toBe(true)
    expect(error).toMatchObject({ code: 'unreachable' })
    expect((error as Error).message).toMatch(/^The download process was ended by SIGKILL after \d+ bytes of model\.onnx\. The part already downloaded is kept; download again to resume\.$/)
    const kept = statSync(partPaths(dest).part).size
    expect(kept).toBeGreaterThan(0)

    const again = await processes.download(request(root, 'model.onnx'))
    expect(again.resumedFrom).toBe(kept)
    expect(sha256Of(dest)).toBe(bigSha)
  }, 120_000)

  it('cancel stops the download and keeps the part for a resume', async () => {
    processes = createDownloadProcesses({ modulePath })
    const root = path.join(work, 'cancel')
    const controller = new AbortController()
    const error = await processes
      .download({ ...request(root, 'model.onnx'), signal: controller.signal, onProgress: (p) => p.received >= 8 * MB && controller.abort() })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'AbortError' })
    expect(statSync(partPaths(path.join(root, 'run-1', 'model.onnx')).part).size).toBeGreaterThan(0)
  }, 60_000)

  it('the download process answers a message it does not understand with protocol_error, without echoing it, and exits', async () => {
    const child = fork(modulePath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' })
    const answer = new Promise<unknown>((resolve) => child.once('message', resolve))
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.send({ type: 'download', id: 1, connection: { ...connection, host: { ...connection.host, secrets: { passphrase: 'hunter2-secret', password: null } } }, remotePath: big, expectedSha256: 'not-a-sha', root: work, segments: ['x'] })
    const m = (await answer) as { type: string; message: string }
    expect(m.type).toBe('protocol_error')
    expect(m.message).toMatch(/expectedSha256/)
    expect(m.message).not.toMatch(/hunter2/)
    expect(await exit).toBe(2)
  }, 30_000)

  it('a download process that sends a message the app does not understand is stopped, with a clear error', async () => {
    // A real process speaking a wrong protocol (an older or corrupted bundle would look like this).
    const liar = path.join(work, 'liar.js')
    writeFileSync(liar, `process.on('message', (m) => process.send({ type: 'done', id: m.id, path: 42 }))\n`)
    mkdirSync(path.join(work, 'liar-root'), { recursive: true })
    processes = createDownloadProcesses({ modulePath: liar })
    const error = await processes.download(request(path.join(work, 'liar-root'), 'model.onnx')).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'internal' })
    expect((error as Error).message).toMatch(/^The download process sent a message Gantry does not understand \(path: .*\), so it was stopped while downloading model\.onnx\./)
  }, 30_000)
})
