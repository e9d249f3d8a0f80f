/**
 * The desktop against a compromised GPU host. The whole backend (createServices, the router)
 * talks to test/support/hostileHost.py through the GANTRY_PYTHON seam: every answer it reads
 * (`runs --json`, `models --json`, journal events, control answers) carries hostile ids,
 * huge numbers and symlinks planted in its root. HOME, the data folder and the backup folder
 * share one temp root; afterwards every new file under that root must be inside the data or
 * backup folder, no private file may have been copied out, and nothing may have crashed.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackupHistory } from '../src/shared/api/models'
import type { CallContext } from '../src/shared/contract'
import type { RunEvent } from '../src/shared/remoteProtocol'
import type { ResponseEnvelope } from '../src/shared/rpc'
import { createServices, type Services } from '../src/main/services/index'
import { createWebPlatform } from '../src/web/webPlatform'
import { havePython } from './support/localRig'
import { REPO_ROOT } from './support/prerequisites'

const FAKE_HOST = path.join(REPO_ROOT, 'test', 'support', 'hostileHost.py')
const SECRET = 'TOP-SECRET-private-key-material'

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    out.push(full)
    if (lstatSync(full).isDirectory()) walk(full, out)
  }
  return out
}

describe.skipIf(!havePython())('the desktop against a hostile host', () => {
  const top = mkdtempSync(path.join(os.tmpdir(), 'gantry-hostile-'))
  const home = path.join(top, 'home')
  const dataDir = path.join(top, 'data')
  const backupFolder = path.join(top, 'backups')
  const secretDir = path.join(home, 'private')
  const saved = { HOME: process.env.HOME, GANTRY_PYTHON: process.env.GANTRY_PYTHON, HOSTILE_SECRET_DIR: process.env.HOSTILE_SECRET_DIR }
  let before: Set<string>
  let services: Services
  const ctx: CallContext = { connectionId: 'hostile-test', transport: 'ws', signal: new AbortController().signal }
  const events: RunEvent[] = []
  const backups: BackupHistory[] = []
  const terminalText = new Map<string, string>()
  const terminalExit = new Map<string, string | null>()
  let nextId = 1
  const call = (method: string, input: unknown): Promise<ResponseEnvelope> => services.router.call(nextId++, method, input, ctx)

  beforeAll(() => {
    mkdirSync(path.join(home, '.config', 'autostart'), { recursive: true })
    mkdirSync(secretDir, { recursive: true })
    writeFileSync(path.join(secretDir, 'train.log'), `${SECRET}\n`)
    mkdirSync(path.join(secretDir, 'models'))
    writeFileSync(path.join(secretDir, 'models', 'secret.onnx'), `${SECRET}\n`)
    // The user's own settings, as the app would have saved them: backups go to their folder, often.
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(path.join(dataDir, 'models-settings.json'), JSON.stringify({ backupFolder, scheduleHours: 0.0005, backupOnEvents: true, includeCheckpoints: true }))
    before = new Set(walk(top))
    process.env.HOME = home
    process.env.GANTRY_PYTHON = FAKE_HOST
    process.env.HOSTILE_SECRET_DIR = secretDir
    services = createServices(createWebPlatform({ dataDir, bundleDir: REPO_ROOT, appVersion: '0.0.0-test', secretsFile: null }), { backupCheckIntervalMs: 200, backupDebounceMs: 50 })
    services.bus.listen('runs.events', (batch) => void events.push(...batch.events))
    services.bus.listen('models.backup', (h) => void backups.push(h))
    services.bus.listen('terminals.data', ({ terminalId, data }) => void terminalText.set(terminalId, (terminalText.get(terminalId) ?? '') + data))
    services.bus.listen('terminals.exit', ({ terminalId, message }) => void terminalExit.set(terminalId, message))
  })

  afterAll(async () => {
    await services?.dispose()
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    rmSync(top, { recursive: true, force: true })
  })

  it('refuses hostile ids as API input (leading "-", "..", separators, NUL)', async () => {
    for (const runId of ['-rf', '../../x/escape', 'x/y', 'a\u0000b', '..', '.hidden']) {
      expect((await call('runs.watch', { instanceId: 'local', runId })).ok, runId).toBe(false)
      expect((await call('models.list', { instanceId: 'local', runId })).ok, runId).toBe(false)
    }
    for (const game of ['-x', '--help', '../pong', 'Pong\n']) {
      expect((await call('runs.pause', { instanceId: 'local', runId: 'ok-run', game })).ok, game).toBe(false)
      expect((await call('terminals.open', { instanceId: 'local', kind: 'log', runId: 'ok-run', game, cols: 80, rows: 24 })).ok, game).toBe(false)
    }
    expect((await call('models.validate', { instanceId: 'local', runId: 'ok-run', path: 'runs/-rf/x.onnx' })).ok).toBe(false)
  })

  it('lists only the runs whose ids are safe', async () => {
    const res = await call('runs.list', { instanceId: 'local' })
    expect(res.ok).toBe(true)
    expect((res as { output: Array<{ runId: string }> }).output.map((r) => r.runId)).toEqual(['ok-run'])
  })

  it('lists only the model records whose every field is safe', async () => {
    const res = await call('models.list', { instanceId: 'local', runId: 'ok-run' })
    expect(res).toMatchObject({ ok: true })
    const rows = (res as { output: Array<{ game: string; file: string; path: string }> }).output
    expect(rows.map((r) => `${r.game}/${r.file}`)).toEqual(['autostart/evil.desktop', 'pong/secret.onnx'])
  })

  it('keeps only well-formed journal events of the followed run', async () => {
    await expect.poll(() => events.some((e) => e.type === 'model_exported'), { timeout: 20_000 }).toBe(true)
    for (const e of events) {
      expect(e.run).toBe('ok-run')
      if ('game' in e) expect(e.game).toBe('autostart')
      if ('file' in e) expect(e.file).toBe('evil.desktop')
    }
  })

  it('runs event and scheduled backups that write only inside the backup folder', async () => {
    await expect
      .poll(() => {
        const done = backups.at(-1)?.records.filter((r) => r.finishedAt !== null) ?? []
        return ['event', 'schedule'].every((t) => done.some((r) => r.trigger === t))
      }, { timeout: 30_000 })
      .toBe(true)
    const copy = path.join(backupFolder, 'local', 'ok-run', 'autostart', 'evil.desktop')
    expect(existsSync(copy)).toBe(true)
    expect(statSync(copy).mode & 0o077).toBe(0)
    expect(existsSync(path.join(home, '.config', 'autostart', 'evil.desktop'))).toBe(false)
    const failures = backups.at(-1)!.records.flatMap((r) => r.failures.map((f) => f.message)).join('\n')
    expect(failures).toMatch(/outside/)
  })

  it('downloads nothing through a symlink the host planted', async () => {
    const res = await call('models.download', { instanceId: 'local', runId: 'ok-run', paths: ['runs/ok-run/games/pong/models/secret.onnx'] })
    expect(res.ok).toBe(true)
    await new Promise((r) => setTimeout(r, 1000))
    for (const file of walk(top).filter((f) => f.startsWith(backupFolder + path.sep) && lstatSync(f).isFile())) {
      expect(readFileSync(file, 'utf8'), file).not.toContain(SECRET)
    }
  })

  it('opens no terminal on a log the host linked to a private file', async () => {
    const res = await call('terminals.open', { instanceId: 'local', kind: 'log', runId: 'ok-run', game: 'pong', cols: 80, rows: 24 })
    expect(res.ok).toBe(true)
    const { terminalId } = (res as { output: { terminalId: string } }).output
    await call('terminals.ack', { terminalId, chars: 0 })
    await expect.poll(() => terminalExit.has(terminalId), { timeout: 10_000 }).toBe(true)
    expect(terminalExit.get(terminalId)).toMatch(/outside/)
    expect(terminalText.get(terminalId) ?? '').not.toContain(SECRET)
  })

  it('refuses control answers that name another run, and answers too large to hold', async () => {
    const pause = await call('runs.pause', { instanceId: 'local', runId: 'ok-run', game: 'autostart' })
    expect(pause.ok).toBe(false)
    const rssBefore = process.memoryUsage().rss
    const stop = await call('runs.stop', { instanceId: 'local', runId: 'ok-run' })
    expect(stop).toMatchObject({ ok: false, error: { message: expect.stringMatching(/more than 64 MB/) } })
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
  })

  it('created files only inside the data and backup folders, kept the data folder private, and still answers', async () => {
    const created = walk(top).filter((f) => !before.has(f))
    const outside = created.filter((f) => !f.startsWith(dataDir + path.sep) && !f.startsWith(backupFolder + path.sep) && f !== backupFolder)
    expect(outside).toEqual([])
    expect(statSync(dataDir).mode & 0o777).toBe(0o700)
    expect((await call('app.info', {})).ok).toBe(true)
  })
})
