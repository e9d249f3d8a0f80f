/**
 * An instance's passphrases and passwords: kept ones live in Platform.secrets (never in
 * instances.json), ones typed into a prompt are remembered in memory for this session so a
 * reconnect need not ask again. Both the connector (reads, remembers) and the instance editor
 * (saves, drops) go through here, so the two never disagree about which secret is in use.
 */
import type { AuthInfo, AuthInput } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import type { SecretStore } from '../platform'
import { ALL_SECRET_SLOTS, secretKey, type SecretKind, type SecretRole } from './secretKeys'
import type { InstanceStore } from './store'

export interface InstanceSecrets {
  /** A remembered or kept secret for one hop of the instance, or null (then the user is asked). */
  get(instanceId: string, role: SecretRole, kind: SecretKind): Promise<string | null>
  /** A secret the user typed and the host accepted: memory only. */
  remember(instanceId: string, role: SecretRole, kind: SecretKind, value: string): void
  /** A remembered secret the host refused (a kept one stays until the user edits it). */
  forget(instanceId: string, role: SecretRole, kind: SecretKind): void
  /** Keeps the secrets entered in the instance form; refuses a store that is not safe unless allowed. */
  save(instanceId: string, role: SecretRole, input: AuthInput, allowInsecure: boolean): Promise<void>
  /** Deletes every secret the given auth no longer uses (all of them when both are null). */
  dropUnused(instanceId: string, keepHost: AuthInfo | null, keepJump: AuthInfo | null): Promise<void>
}

function keeps(auth: AuthInfo | null | undefined, kind: SecretKind): boolean {
  return (auth?.kind === 'key' && kind === 'passphrase' && auth.hasPassphrase) || (auth?.kind === 'password' && kind === 'password' && auth.hasPassword)
}

function secretsIn(input: AuthInput): Partial<Record<SecretKind, string>> {
  if (input.kind === 'key' && input.passphrase !== undefined) return { passphrase: input.passphrase }
  if (input.kind === 'password' && input.password !== undefined) return { password: input.password }
  return {}
}

export function createInstanceSecrets(secrets: SecretStore, store: InstanceStore): InstanceSecrets {
  const remembered = new Map<string, string>()
  return {
    async get(id, role, kind) {
      const key = secretKey(id, role, kind)
      const mem = remembered.get(key)
      if (mem !== undefined) return mem
      const i = store.get(id)
      return keeps(role === 'host' ? i?.auth : i?.jump?.auth, kind) ? secrets.get(key) : null
    },
    remember(id, role, kind, value) {
      remembered.set(secretKey(id, role, kind), value)
    },
    forget(id, role, kind) {
      remembered.delete(secretKey(id, role, kind))
    },
    async save(id, role, input, allowInsecure) {
      const entered = secretsIn(input)
      if (Object.keys(entered).length === 0) return
      const warning = secrets.info().warning
      if (warning && !allowInsecure) {
        throw new RpcError('invalid_input', `This computer cannot keep secrets safely: ${warning} Leave the ${input.kind === 'key' ? 'passphrase' : 'password'} empty to be asked each time you connect, or confirm that Gantry may store it anyway.`)
      }
      for (const [kind, value] of Object.entries(entered) as Array<[SecretKind, string]>) await secrets.set(secretKey(id, role, kind), value)
    },
    async dropUnused(id, keepHost, keepJump) {
      for (const [role, kind] of ALL_SECRET_SLOTS) {
        if (keeps(role === 'host' ? keepHost : keepJump, kind)) continue
        await secrets.delete(secretKey(id, role, kind))
        remembered.delete(secretKey(id, role, kind))
      }
    },
  }
}
