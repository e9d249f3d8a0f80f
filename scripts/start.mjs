#!/usr/bin/env node
// `npm start`: build, then open the desktop app; where no Electron binary exists (a server,
// a container, CI) start the same app as the web host and print its address.
import { spawnSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

let electron = null
try {
  const candidate = createRequire(import.meta.url)('electron')
  if (typeof candidate === 'string' && existsSync(candidate)) electron = candidate
} catch {
  electron = null
}
if (electron && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== 'linux')) {
  spawn(electron, ['.'], { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 0))
} else {
  console.log(electron ? 'No display found: starting Gantry in your browser instead.' : 'No Electron binary is installed here: starting Gantry in your browser instead.')
  spawn(process.execPath, ['out/web/main.js'], { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 0))
}
