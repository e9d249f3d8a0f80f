/**
 * The user's ~/.ssh/config both ways: list its hosts, import picked ones as instances, and write
 * (with a backup) a marked Host block for an instance so plain `ssh <id>` reaches it with the
 * host keys Gantry pinned.
 */
import os from 'node:os'
import path from 'node:path'
import * as instancesApi from '../../../shared/api/instances'
import type { InstanceSummary } from '../../../shared/api/instances'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { KnownHostsMirror } from '../ssh/knownHostsMirror'
import { instanceInputFor, listSshConfigHosts } from './importSshConfig'
import type { InstancesService } from './instancesService'
import { writeSshConfigEntry } from './sshConfigWriter'
import type { InstanceStore } from './store'

type SshConfigMethods = Pick<typeof instancesApi.methods, 'instances.sshConfigHosts' | 'instances.importSshConfig' | 'instances.writeSshConfigEntry'>

export interface SshConfigServiceOptions {
  instances: Pick<InstancesService, 'add' | 'ready'>
  store: InstanceStore
  knownHosts: KnownHostsMirror
  /** ~/.ssh/config by default; tests point it elsewhere. */
  sshConfigFile?: string
}

export function createSshConfigService(options: SshConfigServiceOptions) {
  const { instances, store, knownHosts } = options
  const api: DomainImpl<SshConfigMethods> = {
    'instances.sshConfigHosts': async () => listSshConfigHosts(options.sshConfigFile),
    'instances.importSshConfig': async ({ aliases }) => {
      await instances.ready
      const added: InstanceSummary[] = []
      for (const alias of aliases) {
        let input
        try {
          input = instancesApi.InstanceInput.parse(instanceInputFor(alias, options.sshConfigFile))
        } catch (error) {
          const detail = error instanceof Error && 'issues' in error ? (error as { issues: Array<{ message: string }> }).issues[0]?.message : (error as Error).message
          throw new RpcError('invalid_input', `Could not import "${alias}": ${detail}. Add it by hand with "+ Add instance".`)
        }
        added.push(await instances.add(input, false))
      }
      return added
    },
    'instances.writeSshConfigEntry': async ({ id }) => {
      await instances.ready
      const i = store.require(id)
      const file = options.sshConfigFile ?? path.join(os.homedir(), '.ssh', 'config')
      const { backupPath } = await writeSshConfigEntry(file, {
        alias: i.id,
        hostName: i.host,
        port: i.port,
        user: i.user,
        identityFile: i.auth.kind === 'key' ? i.auth.keyPath : null,
        proxyJump: i.jump ? `${i.jump.user}@${i.jump.host}:${i.jump.port}` : null,
        knownHostsFile: knownHosts.file,
      })
      return { path: file, backupPath, alias: i.id }
    },
  }
  return { api }
}
