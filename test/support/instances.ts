/**
 * For this feature's tests only: the real instances service on a temp data folder, with a
 * captured event stream and a way to answer prompts like the UI does.
 */
import { cpSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { contract, type ApiClient, type CallContext, type EventMap } from '../../src/shared/contract'
import type { PromptEvent } from '../../src/shared/api/instances'
import type { EventEnvelope } from '../../src/shared/rpc'
import { createEventBus } from '../../src/main/services/eventBus'
import { createHostRegistry } from '../../src/main/services/host/hostRegistry'
import { createLocalSession } from '../../src/main/services/local/localSession'
import type { Platform, SecretStoreInfo } from '../../src/main/services/platform'
import { createInstancesService, type InstancesServiceOptions } from '../../src/main/services/instances/instancesService'

export const REPO_ROOT = path.resolve(__dirname, '../..')

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

export function createTestInstances(opts: Partial<InstancesServiceOptions> & { dataDir?: string; bundleDir?: string; secretsWarning?: string | null } = {}) {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'gantry-inst-'))
  const secrets = memorySecrets(opts.secretsWarning ?? null)
  const logs: string[] = []
  const platform: Platform = {
    kind: 'web',
    appVersion: 'test',
    dataDir,
    bundleDir: opts.bundleDir ?? REPO_ROOT,
    secrets,
    notify: () => {},
    chooseFolder: null,
    startDrag: null,
    log: (line) => logs.push(line),
  }
  const bus = createEventBus()
  const hosts = createHostRegistry(createLocalSession({ root: path.join(dataDir, 'this-computer'), remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: 'python3' }))
  const events: EventEnvelope[] = []
  const prompts: PromptEvent[] = []
  let policy: PromptPolicy = () => null
  const service = createInstancesService({ bus, platform, hosts, promptTimeoutMs: 5000, reconnectBackoffMs: [300, 600, 1000], ...opts })
  const conn = bus.connect('test', (e) => {
    events.push(e)
    if (e.topic === 'instances.prompt') {
      const p = e.payload as PromptEvent
      prompts.push(p)
      const answer = policy(p)
      if (answer) setImmediate(() => void service.api['instances.answerPrompt']({ promptId: p.promptId, ...answer }, ctx()))
    }
  })
  for (const topic of ['instances.changed', 'instances.prompt', 'instances.promptClosed', 'instances.bootstrapOutput', 'instances.bootstrapSteps', 'app.notification']) conn.subscribe(topic)
  const ctx = (): CallContext => ({ connectionId: 'test', transport: 'ws', signal: new AbortController().signal })
  // Like the router: inputs are parsed (defaults applied) and outputs checked against the contract.
  const methods = contract.methods as unknown as Record<string, { input: { parse(v: unknown): unknown }; output: { parse(v: unknown): unknown } }>
  const impl = service.api as unknown as Record<string, (i: unknown, c: CallContext) => Promise<unknown>>
  const api = new Proxy({} as Pick<ApiClient, keyof typeof service.api>, {
    get: (_t, method: string) => async (input: unknown) => methods[method].output.parse(await impl[method](methods[method].input.parse(input ?? {}), ctx())),
  })
  return {
    dataDir,
    platform,
    secrets,
    logs,
    bus,
    hosts,
    service,
    api,
    ctx,
    events,
    prompts,
    /** How the "user" answers prompts from now on (null: leave unanswered). */
    answerWith(next: PromptPolicy) {
      policy = next
    },
    eventsOf<T extends keyof EventMap>(topic: T): EventMap[T][] {
      return events.filter((e) => e.topic === topic).map((e) => e.payload as EventMap[T])
    },
    dispose() {
      service.dispose()
      conn.close()
    },
  }
}

export async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
