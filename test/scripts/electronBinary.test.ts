// The README's one install-and-start command (`npm start`, scripts/start.mjs) gets Electron's
// binary where it can be downloaded and carries on without it where it cannot. Electron's own
// download step (node_modules/electron/install.js, @electron/get) runs for real, pointed through
// ELECTRON_MIRROR at a loopback server with a small artifact of the real layout, or at a dead port.
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = path.resolve(__dirname, '../..')
const ELECTRON_VERSION = JSON.parse(readFileSync(path.join(REPO, 'node_modules/electron/package.json'), 'utf8')).version as string
const ARTIFACT = `electron-v${ELECTRON_VERSION}-${process.platform}-${process.arch}.zip`
const work = mkdtempSync(path.join(os.tmpdir(), 'gantry-electron-binary-'))

/** A project copy whose node_modules links every installed package except electron, which lacks its binary. */
function projectWithoutElectronBinary(name: string): string {
  const root = path.join(work, name)
  mkdirSync(path.join(root, 'node_modules'), { recursive: true })
  for (const file of ['package.json', 'package-lock.json']) cpSync(path.join(REPO, file), path.join(root, file))
  cpSync(path.join(REPO, 'scripts'), path.join(root, 'scripts'), { recursive: true })
  const modules = path.join(REPO, 'node_modules')
  for (const entry of readdirSync(modules)) {
    if (entry === 'electron') continue
    if (entry === '.package-lock.json') cpSync(path.join(modules, entry), path.join(root, 'node_modules', entry))
    else symlinkSync(path.join(modules, entry), path.join(root, 'node_modules', entry))
  }
  cpSync(path.join(modules, 'electron'), path.join(root, 'node_modules/electron'), {
    recursive: true,
    filter: (src) => !/[\\/](dist|path\.txt)$/.test(src),
  })
  return root
}

function fakeElectronZip(): Buffer {
  const stage = path.join(work, 'artifact')
  mkdirSync(stage, { recursive: true })
  writeFileSync(path.join(stage, 'electron'), '#!/bin/sh\necho "fake electron $@"\n', { mode: 0o755 })
  writeFileSync(path.join(stage, 'version'), ELECTRON_VERSION)
  writeFileSync(path.join(stage, 'LICENSE'), 'test artifact\n')
  const zip = path.join(work, ARTIFACT)
  execFileSync('python3', ['-c', 'import sys, zipfile, os\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  for f in ("electron", "version", "LICENSE"):\n    info = zipfile.ZipInfo(f); info.external_attr = (os.stat(os.path.join(sys.argv[2], f)).st_mode & 0xFFFF) << 16\n    z.writestr(info, open(os.path.join(sys.argv[2], f), "rb").read())', zip, stage])
  return readFileSync(zip)
}

let mirror: http.Server
let mirrorUrl = ''
const served: string[] = []

beforeAll(async () => {
  const zip = fakeElectronZip()
  const shasums = `${createHash('sha256').update(zip).digest('hex')} *${ARTIFACT}\n`
  mirror = http.createServer((req, res) => {
    served.push(req.url ?? '')
    if (req.url === `/v${ELECTRON_VERSION}/${ARTIFACT}`) res.end(zip)
    else if (req.url === `/v${ELECTRON_VERSION}/SHASUMS256.txt`) res.end(shasums)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`
})

afterAll(async () => {
  await new Promise((resolve) => mirror.close(resolve))
  rmSync(work, { recursive: true, force: true })
})

function runInstall(root: string, mirrorBase: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_MIRROR: mirrorBase, electron_use_remote_checksums: '1', electron_config_cache: path.join(root, 'electron-cache') }
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD
  // Asynchronous: the mirror answers from this very process.
  const child = spawn(process.execPath, ['scripts/install.mjs'], { cwd: root, env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })))
}

describe('Electron binary on install', () => {
  it('downloads and installs the binary from the mirror, so `npm start` opens the desktop window', async () => {
    const root = projectWithoutElectronBinary('reachable')
    const result = await runInstall(root, mirrorUrl)
    expect(result.status, result.stderr).toBe(0)
    expect(served).toContain(`/v${ELECTRON_VERSION}/${ARTIFACT}`)
    const binary = execFileSync(process.execPath, ['-p', 'require("electron")'], { cwd: root, encoding: 'utf8' }).trim()
    expect(binary).toBe(path.join(root, 'node_modules/electron/dist/electron'))
    expect(execFileSync(binary, ['--version'], { encoding: 'utf8' })).toContain('fake electron --version')
    expect(result.stdout).toMatch(/Electron binary installed/)
  })

  it('carries on without the binary when it cannot be downloaded, says why and what to do, and exits 0', async () => {
    const root = projectWithoutElectronBinary('unreachable')
    const deadPort = `http://127.0.0.1:9/`
    const result = await runInstall(root, deadPort)
    expect(result.status, result.stderr).toBe(0)
    expect(existsSync(path.join(root, 'node_modules/electron/path.txt'))).toBe(false)
    const told = result.stdout + result.stderr
    expect(told).toMatch(/Electron's desktop binary could not be downloaded \(.*ECONNREFUSED.*\)/)
    expect(told).toMatch(/starts in your browser instead/)
    expect(told).toMatch(/ELECTRON_MIRROR/)
    expect(told).not.toMatch(/^\s+at /m) // no raw stack trace
  })
})
