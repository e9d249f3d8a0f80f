#!/usr/bin/env node
// Installs Gantry's npm packages when they are missing or older than package-lock.json, then
// gets Electron's desktop binary where it can be downloaded. `npm start` runs this first, so
// the README's one command works on a machine that cannot download Electron: a plain `npm ci`
// fails there in Electron's own install step (`getaddrinfo ENOTFOUND github.com`).
//
// Two download steps are handled here instead of in package install scripts:
// - Electron's binary (node_modules/electron/install.js, which honours ELECTRON_MIRROR): its
//   failure is reported in words and Gantry starts in the browser instead.
// - onnxruntime-node's CUDA extras (~hundreds of MB, unused: Gantry validates models on CPU,
//   which ships inside the package): skipped with the package's documented variable.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const INSTALL_ENV = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' }
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

/** The direct dependencies whose installed version differs from package-lock.json (or are missing). */
export function staleDependencies(root = ROOT) {
  const pkg = readJson(path.join(root, 'package.json'))
  const lock = readJson(path.join(root, 'package-lock.json'))
  if (!pkg || !lock?.packages) return ['package-lock.json']
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  return names.filter((name) => {
    const locked = lock.packages[`node_modules/${name}`]?.version
    const installed = readJson(path.join(root, 'node_modules', name, 'package.json'))?.version
    return !installed || installed !== locked
  })
}

export function installDependencies(root = ROOT) {
  const stale = staleDependencies(root)
  if (stale.length === 0) return false
  console.log(`Installing Gantry's packages (npm ci; ${stale.length} missing or out of date)…`)
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, env: INSTALL_ENV, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error('npm ci failed (its messages are above). Fix what it names, then run `npm start` again.')
    process.exit(result.status ?? 1)
  }
  return true
}

/** The Electron executable, or null when its binary is not installed. */
export function electronBinary(root = ROOT) {
  try {
    const candidate = createRequire(path.join(root, 'package.json'))('electron')
    return typeof candidate === 'string' && existsSync(candidate) ? candidate : null
  } catch {
    return null
  }
}

/** The first line of the download error, without @electron/get's stack trace. */
function downloadFailure(stderr) {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('at '))
  return line ?? 'no error message'
}

/** Runs Electron's own download step; true when the binary is there afterwards. */
export function downloadElectronBinary(root = ROOT) {
  const installer = path.join(root, 'node_modules', 'electron', 'install.js')
  if (!existsSync(installer)) return false
  const env = { ...process.env }
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD
  console.log('Downloading Electron (the desktop window)…')
  const result = spawnSync(process.execPath, [installer], { cwd: path.dirname(installer), env, encoding: 'utf8', timeout: DOWNLOAD_TIMEOUT_MS })
  const binary = electronBinary(root)
  if (result.status === 0 && binary) {
    console.log(`Electron binary installed (${path.relative(root, binary)}).`)
    return true
  }
  const why = result.error?.code === 'ETIMEDOUT' ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 60_000} minutes` : downloadFailure(result.stderr ?? '')
  console.log(
    `Electron's desktop binary could not be downloaded (${why}). Gantry starts in your browser instead. ` +
      'For the desktop window, run `npm start` again where github.com is reachable, or set ELECTRON_MIRROR to a mirror of Electron releases.',
  )
  return false
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  installDependencies()
  if (!electronBinary()) downloadElectronBinary()
}
