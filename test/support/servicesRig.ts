/**
 * The assembled services (createServices, as the app builds them) on a temp data folder, called
 * through the real router (createRouter: inputs parsed, outputs checked, errors mapped), with a
 * captured event stream and a "user" who answers prompts like the UI does.
 */
import { cpSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { PromptEvent } from '../../src/shared/api/instances'
import { eventTopics, type ApiClient, type CallContext, type EventMap } from '../../src/shared/contract'
import { RpcError, type EventEnvelope } from '../../src/shared/rpc'
import { createServices, type ServicesOptions } from '../../src/main/services/index'
import type { Platform, SecretStoreInfo } from '../../src/main/services/platform'
import { REPO_ROOT } from './prerequisites'

export function memorySecrets(warning: string | null = null) {
  const values = new Map<string, string>()
  return {
    values,
    info: (): SecretStoreInfo => ({ backend: 'test-memory', persistent: false, warning }),
    get: async (key: string) => values.get(key) ?? null,
    set: async (key: string, value: string) => void values.set(key, value),
    delete: async (key: string) => void values.delete(key),
  }
}

/**
 * A frozen copy of remote/ (others edit the live folder while tests run, which would change the
 * bundle hash between two calls of one test).
 */
export function snapshotBundleDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bundle-'))
  cpSync(path.join(REPO_ROOT, 'remote'), path.join(dir, 'remote'), { recursive: true, filter: (src) => !/__pycache__|\.pytest_cache/.test(src) })
  return dir
}

export type PromptPolicy = (prompt: PromptEvent) => { accept: boolean; value?: string } | null

export interface ServicesRigOptions extends ServicesOptions {
  dataDir?: string
  bundleDir?: string
  secretsWarning?: string | null
}

export function createServicesRig(opts: ServicesRigOptions = {}) {
  const { dataDir: givenDataDir, bundleDir, secretsWarning, ...serviceOptions } = opts
  const dataDir = givenDataDir ?? mkdtempSync(path.join(os.tmpdir(), 'gantry-inst-'))
  const secrets = memorySecrets(secretsWarning ?? null)
  const logs: string[] = []
  const platform: Platform = {
    appVersion: 'test',
    dataDir,
    bundleDir: bundleDir ?? REPO_ROOT,
    secrets,
    notify: null,
    chooseFolder: null,
    startDrag: null,
    log: (line) => logs.push(line),
  }
  const services = createServices(platform, { promptTimeoutMs: 5000, reconnectBackoffMs: [300, 600, 1000], ...serviceOptions })
  const events: EventEnvelope[] = []
  const prompts: PromptEvent[] = []
  let policy: PromptPolicy = () => null
  let nextId = 1
  const ctx = (): CallContext => ({ connectionId: 'test', transport: 'ws', signal: new AbortController().signal })
  const call = async (method: string, input: unknown): Promise<unknown> => {
    const response = await services.router.call(nextId++, method, input, ctx())
    if (!response.ok) throw new RpcError(response.error.code, response.error.message)
    return response.output
  }
  const conn = services.bus.connect('test', (e) => {
    events.push(e)
    if (e.topic === 'instances.prompt') {
      const p = e.payload as PromptEvent
      prompts.push(p)
      const answer = policy(p)
      if (answer) setImmediate(() => void call('instances.answerPrompt', { promptId: p.promptId, ...answer }))
    }
  })
  for (const topic of eventTopics) conn.subscribe(topic)
  const api = new Proxy({} as ApiClient, { get: (_t, method: string) => (input: unknown) => call(method, input) })
  return {
    dataDir,
    platform,
    secrets,
    logs,
    services,
    api,
    events,
    prompts,
    /** How the "user" answers prompts from now on (null: leave unanswered). */
    answerWith(next: PromptPolicy) {
      policy = next
    },
    eventsOf<T extends keyof EventMap>(topic: T): EventMap[T][] {
      return events.filter((e) => e.topic === topic).map((e) => e.payload as EventMap[T])
    },
    async dispose() {
      conn.close()
      await services.dispose()
    },
  }
}

export type ServicesRig = ReturnType<typeof createServicesRig>

export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
