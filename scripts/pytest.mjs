#!/usr/bin/env node
// Runs the remote/ pytest suite with the project venv (.venv) or GANTRY_TEST_PYTHON.
// A missing prerequisite fails with the command that installs it (in CI and outside it).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const python = process.env.GANTRY_TEST_PYTHON ?? (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3')
const probe = spawnSync(python, ['-c', 'import pytest, torch, onnx, onnxruntime'], { encoding: 'utf8' })
if (probe.status !== 0) {
  console.error(`The remote tests need Python with pytest, torch, onnx and onnxruntime (tried ${python}).\nInstall them with: python3 -m venv .venv && .venv/bin/pip install -r remote/requirements-dev.txt   (or run: bash .ci/run)`)
  process.exit(1)
}
const run = spawnSync(python, ['-m', 'pytest', 'remote/tests', '-q', '-p', 'no:cacheprovider', ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(run.status ?? 1)
