/**
 * A real web host on 127.0.0.1 for tests: the assembled services on a temp data folder and a
 * one-page static folder. `close()` stops the host, disposes the services and removes the folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createServices } from '../../src/main/services/index'
import { startWebHost, type WebHost } from '../../src/web/server'
import { createWebPlatform } from '../../src/web/webPlatform'

export interface WebHostRig {
  host: WebHost
  close(): Promise<void>
}

export async function startTestWebHost(prefix: string): Promise<WebHostRig> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix))
  const staticDir = path.join(tmp, 'static')
  mkdirSync(staticDir)
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Gantry</title>')
  const services = createServices(createWebPlatform({ dataDir: path.join(tmp, 'data'), bundleDir: process.cwd(), appVersion: '0.0.0-test', secretsFile: null }))
  const host = await startWebHost({ services, staticDir })
  return {
    host,
    close: async () => {
      await host.close()
      await services.dispose()
      rmSync(tmp, { recursive: true, force: true })
    },
  }
}
