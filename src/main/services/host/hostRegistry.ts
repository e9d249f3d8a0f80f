/**
 * Hands out HostSessions by instance id: the built-in local session, or an SSH connection from
 * the pool. Callers release what they acquire so the pool can close idle connections.
 */
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import type { HostSession, HostSessionLease } from './hostSession'

export type SshConnector = (instanceId: string) => Promise<HostSessionLease>

export interface HostRegistry {
  readonly local: HostSession
  acquire(instanceId: string): Promise<HostSessionLease>
  setSshConnector(connector: SshConnector): void
}

export function createHostRegistry(local: HostSession): HostRegistry {
  let sshConnector: SshConnector | null = null
  return {
    local,
    async acquire(instanceId) {
      if (instanceId === LOCAL_INSTANCE_ID) return Object.assign(Object.create(local) as HostSession, { release() {} })
      if (!sshConnector) throw new RpcError('unreachable', `Instance "${instanceId}" cannot be reached: SSH is not available in this build.`)
      return sshConnector(instanceId)
    },
    setSshConnector(connector) {
      sshConnector = connector
    },
  }
}
