/** ~/.ssh/config → hosts the user can pick, and the instance settings an import creates. */
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { InstanceInput, SshConfigHost } from '../../../shared/api/instances'
import { expandIdentityFile, parseProxyJump, parseSshConfig, resolveHost, type ParsedConfig, type ResolvedHost } from './sshConfig'

export interface SshConfigListing {
  path: string
  hosts: SshConfigHost[]
  notes: string[]
}

function localUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER ?? 'root'
  }
}

function describe(r: ResolvedHost, home: string): SshConfigHost {
  const user = r.user ?? localUser()
  const port = r.port ?? 22
  const identityFiles = r.identityFiles.map((f) => expandIdentityFile(f, { home, localUser: localUser(), host: r.hostName, remoteUser: user, port }))
  let problem: string | null = null
  if (r.proxyJump && r.proxyJump.includes(',')) problem = 'It goes through more than one jump host; Gantry supports one.'
  else if (r.proxyJump && !parseProxyJump(r.proxyJump)) problem = `Its ProxyJump "${r.proxyJump}" is not of the form user@host:port.`
  else if (!/^[A-Za-z0-9._:%-]+$/.test(r.hostName)) problem = `Its HostName "${r.hostName}" is not a plain host name.`
  return { alias: r.alias, hostName: r.hostName, user, port, identityFiles, proxyJump: r.proxyJump, problem }
}

export function listSshConfigHosts(configFile = path.join(os.homedir(), '.ssh', 'config'), home = os.homedir()): SshConfigListing {
  if (!existsSync(configFile)) return { path: configFile, hosts: [], notes: [`There is no ${configFile} on this computer.`] }
  const parsed = parseSshConfig(configFile, { home })
  return { path: configFile, hosts: parsed.aliases.map((a) => describe(resolveHost(parsed, a), home)), notes: parsed.notes }
}

function authFor(host: SshConfigHost): InstanceInput['auth'] {
  const key = host.identityFiles.find((f) => existsSync(f))
  return key ? { kind: 'key', keyPath: key } : { kind: 'agent' }
}

/** Instance settings for one alias; a ProxyJump naming another alias is resolved through the config too. */
export function instanceInputFor(alias: string, configFile = path.join(os.homedir(), '.ssh', 'config'), home = os.homedir()): InstanceInput {
  const parsed: ParsedConfig = parseSshConfig(configFile, { home })
  const host = describe(resolveHost(parsed, alias), home)
  if (host.problem) throw new Error(`${alias}: ${host.problem}`)
  let jump: InstanceInput['jump'] = null
  if (host.proxyJump) {
    const hop = parseProxyJump(host.proxyJump)!
    const viaConfig = describe(resolveHost(parsed, hop.host), home)
    jump = { host: viaConfig.hostName, port: hop.port ?? viaConfig.port, user: hop.user ?? viaConfig.user, auth: authFor(viaConfig) }
  }
  return { name: alias, host: host.hostName, port: host.port, user: host.user, auth: authFor(host), jump, notes: `Imported from ${configFile} (Host ${alias}).` }
}
