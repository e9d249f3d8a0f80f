/**
 * What people paste into a Host field, as Tabby and VS Code Remote-SSH accept it: an ssh command
 * (`ssh -p 2222 -i ~/.ssh/gpu root@203.0.113.7`), `user@host:port`, `host:port`, `user@host`,
 * `ssh://user@host:port` or `[2001:db8::1]:2222`. Returns the fields it names, or null when the
 * text is a plain host name (nothing to split).
 */
export interface HostPaste {
  host: string
  user?: string
  port?: string
  keyPath?: string
}

/** ssh options that take a value (from ssh(1)); their value is not the destination. */
const WITH_VALUE = new Set(['-B', '-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-p', '-Q', '-R', '-S', '-W', '-w'])

function splitDestination(text: string): HostPaste | null {
  let rest = text.replace(/^ssh:\/\//, '').replace(/\/$/, '')
  let user: string | undefined
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    user = rest.slice(0, at)
    rest = rest.slice(at + 1)
  }
  let port: string | undefined
  const bracketed = rest.match(/^\[([^\]]+)\](?::(\d+))?$/)
  if (bracketed) {
    rest = bracketed[1]
    port = bracketed[2]
  } else {
    const hostPort = rest.match(/^([^:]+):(\d+)$/)
    if (hostPort) {
      rest = hostPort[1]
      port = hostPort[2]
    }
  }
  if (!rest || (user !== undefined && !user)) return null
  return { host: rest, ...(user ? { user } : {}), ...(port ? { port } : {}) }
}

export function parseHostPaste(text: string): HostPaste | null {
  const trimmed = text.trim()
  if (!trimmed) return null
  const words = trimmed.split(/\s+/)
  if (words[0] === 'ssh') {
    let destination: HostPaste | null = null
    const options: Partial<HostPaste> = {}
    for (let i = 1; i < words.length; i++) {
      const word = words[i]
      const flag = word.slice(0, 2)
      if (word.startsWith('-') && WITH_VALUE.has(flag)) {
        const value = word.length > 2 ? word.slice(2) : words[++i]
        if (flag === '-p') options.port = value
        if (flag === '-l') options.user = value
        if (flag === '-i') options.keyPath = value
      } else if (word.startsWith('-')) {
        continue
      } else {
        destination = splitDestination(word)
        break // what follows is the remote command
      }
    }
    return destination ? { ...destination, ...options, ...(destination.port && !options.port ? { port: destination.port } : {}) } : null
  }
  if (words.length > 1) return null
  const split = splitDestination(trimmed)
  return split && (split.user || split.port || trimmed.startsWith('ssh://')) ? split : null
}
