/**
 * Hands out HostSessions by instance id: the built-in local session, or an SSH connection through
 * the connector createServices built. Callers release what they acquire so the pool can close
 * idle connections.
 */
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import type { HostSession, HostSessionLease } from './hostSession'

export interface SshConnector {
  acquire(instanceId: string, signal?: AbortSignal): Promise<HostSessionLease>
}

export interface HostRegistry {
  readonly local: HostSession
  acquire(instanceId: string, signal?: AbortSignal): Promise<HostSessionLease>
}

/** `ssh` is omitted only where no SSH instance can exist (tests of This computer alone). */
export function createHostRegistry(local: HostSession, ssh?: SshConnector): HostRegistry {
  return {
    local,
    async acquire(instanceId, signal) {
      if (instanceId === LOCAL_INSTANCE_ID) return Object.assign(Object.create(local) as HostSession, { release() {} })
      if (!ssh) throw new RpcError('unreachable', `Instance "${instanceId}" cannot be reached: SSH is not available in this build.`)
      return ssh.acquire(instanceId, signal)
    },
  }
}
