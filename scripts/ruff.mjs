#!/usr/bin/env node
// Lints the project's Python with ruff, using remote/ruff.toml: remote/ (what runs on GPU hosts) and bench/.
// Same Python as scripts/pytest.mjs: the project venv (.venv) or GANTRY_TEST_PYTHON.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const python = process.env.GANTRY_TEST_PYTHON ?? (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3')
const probe = spawnSync(python, ['-m', 'ruff', '--version'], { encoding: 'utf8' })
if (probe.status !== 0) {
  console.error(`Linting remote/ and bench/ needs ruff (tried ${python} -m ruff).\nInstall it with: .venv/bin/pip install -r remote/requirements-dev.txt   (or run: bash .ci/run)`)
  process.exit(1)
}
const run = spawnSync(python, ['-m', 'ruff', 'check', '--config', 'remote/ruff.toml', 'remote', 'bench', ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(run.status ?? 1)
