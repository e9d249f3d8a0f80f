/**
 * `npm run web`: the same app in a browser, for machines without a display (and the e2e tests).
 *   node out/web/main.js [--port N] [--data-dir DIR] [--secrets-file FILE] [--json]
 */
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createServices } from '../main/services/index'
import { startWebHost } from './server'
import { createWebPlatform } from './webPlatform'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.GANTRY_PORT ?? '0' },
    'data-dir': { type: 'string' },
    'secrets-file': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})

const bundleDir = path.resolve(__dirname, '..', '..')
const dataDir = path.resolve(
  values['data-dir'] ?? process.env.GANTRY_DATA_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'Gantry'),
)
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a number between 0 and 65535, got "${values.port}".\n`)
  process.exit(2)
}

const services = createServices(
  createWebPlatform({
    dataDir,
    bundleDir,
    appVersion: (require(path.join(bundleDir, 'package.json')) as { version: string }).version,
    secretsFile: values['secrets-file'] ?? null,
  }),
)

startWebHost({ services, staticDir: path.join(bundleDir, 'out', 'renderer'), port })
  .then((host) => {
    if (values.json) process.stdout.write(`${JSON.stringify({ url: host.url, port: host.port, dataDir })}\n`)
    else process.stdout.write(`Gantry is running at ${host.url}\nOpen that address in your browser (it works only from this computer). Press Ctrl+C to stop.\n`)
    // Exiting ends what this app spawned on This computer (set-up, log tails: see localSession);
    // trainers are detached and keep running. A second Ctrl+C, or 5 s, cuts a slow close short.
    let stopping = false
    const shutdown = () => {
      if (stopping) process.exit(130)
      stopping = true
      setTimeout(() => process.exit(0), 5000).unref()
      void Promise.all([host.close(), services.dispose()]).finally(() => process.exit(0))
    }
    process.on('SIGINT', shutdown)
    process.on('SIGTERM', shutdown)
  })
  .catch((error: Error) => {
    process.stderr.write(`Gantry could not start its web host: ${error.message}\n`)
    process.exit(1)
  })
