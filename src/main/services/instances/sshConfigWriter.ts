/**
 * "Add to ~/.ssh/config": a Host block between marker lines that Gantry owns
 * (`# >>> gantry: <name>` … `# <<< gantry`). Writing again replaces only that block; the user's
 * other lines are kept byte for byte, and the previous file is copied to
 * `config.gantry-backup-<ts>` first. The file is replaced atomically (mode 0600).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { RpcError } from '../../../shared/rpc'
import { writeFileAtomic } from '../atomicFile'

export interface SshConfigEntry {
  /** Host alias (and marker name). */
  alias: string
  hostName: string
  port: number
  user: string
  identityFile: string | null
  proxyJump: string | null
  /** Path of Gantry's known_hosts mirror, so `ssh alias` trusts the same pinned key. */
  knownHostsFile: string | null
}

const START = '# >>> gantry: '
const END = '# <<< gantry'

/**
 * A value as OpenSSH reads it back: in double quotes when it has a space, "#" or "'". What it
 * would read differently is refused, never written: a double quote or backslash (an escape; a
 * trailing one leaves the quote open and breaks the file for every host), "%" and "${" (tokens
 * and variables expanded at use), control characters and line breaks.
 */
function configValue(v: string): string {
  const control = [...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  if (v === '' || control || /["\\%]/.test(v) || v.includes('${')) {
    throw new RpcError('invalid_input', `${JSON.stringify(v)} cannot be written to an ssh config file: OpenSSH would read quotes, backslashes, "%", "\${" or control characters differently. Rename the file or folder (or the user) and try again.`)
  }
  return /[\s#']/.test(v) ? `"${v}"` : v
}

export function renderBlock(entry: SshConfigEntry): string {
  if (!/^[A-Za-z0-9._-]+$/.test(entry.alias)) throw new Error(`"${entry.alias}" is not a valid Host alias.`)
  const lines = [`${START}${entry.alias}`, `Host ${entry.alias}`, `  HostName ${configValue(entry.hostName)}`, `  Port ${entry.port}`, `  User ${configValue(entry.user)}`]
  if (entry.identityFile) lines.push(`  IdentityFile ${configValue(entry.identityFile)}`, '  IdentitiesOnly yes')
  if (entry.proxyJump) lines.push(`  ProxyJump ${configValue(entry.proxyJump)}`)
  if (entry.knownHostsFile) lines.push(`  UserKnownHostsFile ${configValue(entry.knownHostsFile)} ~/.ssh/known_hosts`)
  lines.push(END)
  return lines.join('\n')
}

/** The new file text: the alias's own block replaced in place, or appended. */
export function upsertBlock(existing: string, entry: SshConfigEntry): string {
  const block = renderBlock(entry)
  const lines = existing.split('\n')
  const start = lines.findIndex((l) => l.trim() === `${START}${entry.alias}`)
  if (start >= 0) {
    const end = lines.findIndex((l, i) => i > start && l.trim() === END)
    if (end < 0) throw new Error(`The Gantry block for ${entry.alias} in the ssh config has no "${END}" line; fix the file by hand first.`)
    return [...lines.slice(0, start), block, ...lines.slice(end + 1)].join('\n')
  }
  // Host blocks run to the next Host line, so ours goes at the end, after a blank line.
  const base = existing.replace(/\n*$/, '')
  return `${base ? `${base}\n\n` : ''}${block}\n`
}

export async function writeSshConfigEntry(configFile: string, entry: SshConfigEntry, now = new Date()): Promise<{ backupPath: string | null }> {
  let existing = ''
  let backupPath: string | null = null
  try {
    existing = await readFile(configFile, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const next = upsertBlock(existing, entry)
  if (next === existing) return { backupPath: null }
  await mkdir(path.dirname(configFile), { recursive: true, mode: 0o700 })
  if (existing) {
    backupPath = `${configFile}.gantry-backup-${now.toISOString().replace(/[:.]/g, '-')}`
    await copyFile(configFile, backupPath)
  }
  await writeFileAtomic(configFile, next, 0o600)
  return { backupPath }
}
