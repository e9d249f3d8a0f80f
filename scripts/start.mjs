#!/usr/bin/env node
// `npm start`, the README's one command: install what is missing (scripts/install.mjs), build,
// then open the desktop app; where no Electron binary exists or no display (a server, a
// container, CI) start the same app as the web host and print its address.
import { spawnSync, spawn } from 'node:child_process'
import { downloadElectronBinary, electronBinary, installDependencies } from './install.mjs'

const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== 'linux')
const justInstalled = installDependencies()
// Try the download right after an install, and whenever there is a display to open a window on.
if (!electronBinary() && (justInstalled || hasDisplay)) downloadElectronBinary()
const electron = electronBinary()

const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

if (electron && hasDisplay) {
  spawn(electron, ['.'], { stdio: 'inherit', env: { ...process.env, GANTRY_STARTED_WITH: 'npm start' } }).on('exit', (code) => process.exit(code ?? 0))
} else {
  console.log(electron ? 'No display found: starting Gantry in your browser instead.' : 'No Electron binary is installed here: starting Gantry in your browser instead.')
  spawn(process.execPath, ['out/web/main.js'], { stdio: 'inherit', env: { ...process.env, GANTRY_STARTED_WITH: 'npm start' } }).on('exit', (code) => process.exit(code ?? 0))
}
