/**
 * The SSH side of the instances domain: test a connection (asking to trust a new host key),
 * answer the questions only the user can answer (and list those still waiting, for a window
 * that opens late), and forget pinned host keys.
 */
import type * as instancesApi from '../../../shared/api/instances'
import type { DomainImpl } from '../../../shared/contract'
import type { InstancesService } from '../instances/instancesService'
import type { InstanceStore } from '../instances/store'
import type { InstanceConnector } from './instanceConnector'
import type { KnownHostsMirror } from './knownHostsMirror'
import type { PromptBroker } from './prompts'

type SshMethods = Pick<typeof instancesApi.methods, 'instances.testConnection' | 'instances.answerPrompt' | 'instances.pendingPrompts' | 'instances.repinHostKey'>

export interface SshServiceOptions {
  instances: Pick<InstancesService, 'ready' | 'publish'>
  store: InstanceStore
  connector: InstanceConnector
  prompts: PromptBroker
  knownHosts: KnownHostsMirror
}

export function createSshService(options: SshServiceOptions) {
  const { instances, store, connector, prompts, knownHosts } = options
  const api: DomainImpl<SshMethods> = {
    'instances.testConnection': async ({ id }, ctx) => {
      await instances.ready
      store.require(id)
      const started = Date.now()
      const waitedBefore = prompts.waitedMs(id) // time spent in the host-key dialog is not connection time
      const lease = await connector.acquire(id, ctx.signal)
      try {
        const r = await lease.run(['uname', '-srm'], { timeoutMs: 20_000, signal: ctx.signal })
        const i = store.require(id)
        const { home, cipher } = await connector.probe(id)
        return { fingerprint: i.hostKey?.fingerprint ?? '', keyType: i.hostKey?.keyType ?? '', cipher, system: r.stdout.trim() || r.stderr.trim(), home, latencyMs: Date.now() - started - (prompts.waitedMs(id) - waitedBefore) }
      } finally {
        lease.release()
      }
    },
    'instances.answerPrompt': async ({ promptId, accept, value }) => {
      prompts.answer(promptId, accept, value)
      return {}
    },
    'instances.pendingPrompts': async () => prompts.pending(),
    'instances.repinHostKey': async ({ id }) => {
      await instances.ready
      const i = store.require(id)
      connector.drop(id)
      await store.put({ ...i, hostKey: null, jumpHostKey: null })
      await knownHosts.write()
      instances.publish()
      return {}
    },
  }
  return { api }
}
