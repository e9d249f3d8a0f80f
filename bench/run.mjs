#!/usr/bin/env node
// Bundle one TypeScript bench with esbuild (as build:web does) and run it with Node:
//   node bench/run.mjs bench_events [args…]
import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'

const [name, ...args] = process.argv.slice(2)
if (!name) {
  console.error('usage: node bench/run.mjs <bench_events|bench_terminal|bench_charts> [args…]')
  process.exit(2)
}
const out = path.join('out', 'bench', `${name}.js`)
execFileSync('npx', ['esbuild', path.join('bench', `${name}.ts`), '--bundle', '--platform=node', '--target=node20', '--packages=external', `--outfile=${out}`, '--log-level=warning'], { stdio: 'inherit' })
process.exit(spawnSync(process.execPath, [out, ...args], { stdio: 'inherit' }).status ?? 1)
