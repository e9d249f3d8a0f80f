/** Names under which an instance's secrets live in Platform.secrets (never in instances.json). */
export type SecretRole = 'host' | 'jump'
export type SecretKind = 'passphrase' | 'password'

export function secretKey(instanceId: string, role: SecretRole, kind: SecretKind): string {
  return `gantry.instance.${instanceId}.${role}.${kind}`
}

export const ALL_SECRET_SLOTS: Array<[SecretRole, SecretKind]> = [
  ['host', 'passphrase'],
  ['host', 'password'],
  ['jump', 'passphrase'],
  ['jump', 'password'],
]
