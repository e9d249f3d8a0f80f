/**
 * Reads ~/.ssh/config the way OpenSSH does, for "Import from ~/.ssh/config":
 * - the first obtained value of a keyword wins; IdentityFile accumulates;
 * - `Host` lines match the alias with `*`/`?` globs, `!negation` vetoes a block;
 * - `Include` (relative paths under ~/.ssh, globs, sorted) is honoured inside the current block;
 * - `Match` blocks are skipped with a note (their conditions need a live connection);
 * - `HostName` expands `%h`/`%%`; the resolved host name is lowercased like `ssh -G` does.
 * `resolveHost` is verified against `ssh -G` in sshConfig.test.ts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface ResolvedHost {
  alias: string
  hostName: string
  user: string | null
  port: number | null
  /** As written (tokens unexpanded, like `ssh -G` prints them). */
  identityFiles: string[]
  proxyJump: string | null
}

interface Line {
  keyword: string
  args: string[]
  file: string
  line: number
}

interface Block {
  kind: 'host' | 'match' | 'global'
  patterns: string[]
  lines: Line[]
}

export interface ParsedConfig {
  blocks: Block[]
  notes: string[]
  /** Concrete aliases from Host lines (no wildcards, no negation), in file order. */
  aliases: string[]
}

/** Splits a config line into words, honouring double quotes; "Key=Value" is allowed. */
function words(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  let has = false
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted
      has = true
    } else if (!quoted && /\s/.test(ch)) {
      if (has) out.push(cur)
      cur = ''
      has = false
    } else {
      cur += ch
      has = true
    }
  }
  if (has) out.push(cur)
  return out
}

function splitKeyword(raw: string): { keyword: string; rest: string } | null {
  const trimmed = raw.trim()
  if (!trimmed || trimmed.startsWith('#')) return null
  const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(trimmed) ?? /^([A-Za-z]+)$/.exec(trimmed)
  if (!m) return null
  return { keyword: m[1].toLowerCase(), rest: m[2] ?? '' }
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

/** OpenSSH `Host` matching: any positive pattern matches and no negated one does. */
export function hostMatches(patterns: string[], alias: string): boolean {
  let matched = false
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(alias)) return false
    } else if (globToRegExp(p).test(alias)) matched = true
  }
  return matched
}

function expandIncludeGlob(pattern: string, sshDir: string, home: string): string[] {
  let p = pattern.startsWith('~/') ? path.join(home, pattern.slice(2)) : pattern
  if (!path.isAbsolute(p)) p = path.join(sshDir, p)
  if (!/[*?]/.test(p)) return [p]
  // Glob per path segment (enough for conf.d/*.conf and */config forms).
  let candidates = [path.parse(p).root]
  for (const segment of p.split('/').filter(Boolean)) {
    const next: string[] = []
    for (const base of candidates) {
      if (/[*?]/.test(segment)) {
        let names: string[]
        try {
          names = readdirSync(base).sort()
        } catch {
          names = []
        }
        const re = globToRegExp(segment)
        for (const n of names) if (re.test(n) && !n.startsWith('.')) next.push(path.join(base, n))
      } else next.push(path.join(base, segment))
    }
    candidates = next
  }
  return candidates
}

/** Parses a config file and its Includes into blocks. Include lines are spliced into the block they appear in. */
export function parseSshConfig(file: string, options: { home?: string } = {}): ParsedConfig {
  const home = options.home ?? os.homedir()
  const sshDir = path.join(home, '.ssh')
  const blocks: Block[] = [{ kind: 'global', patterns: [], lines: [] }]
  const notes: string[] = []
  const aliases: string[] = []

  const readInto = (f: string, depth: number, current: () => Block) => {
    if (depth > 16) {
      notes.push(`Stopped following Include in ${f}: includes nest more than 16 deep.`)
      return
    }
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (error) {
      if (depth > 0) return // OpenSSH ignores missing included files
      throw error
    }
    text.split(/\r?\n/).forEach((raw, index) => {
      const kw = splitKeyword(raw)
      if (!kw) return
      const args = words(kw.rest)
      if (kw.keyword === 'host') {
        blocks.push({ kind: 'host', patterns: args, lines: [] })
        for (const a of args) if (!/[*?!]/.test(a) && !aliases.includes(a)) aliases.push(a)
        return
      }
      if (kw.keyword === 'match') {
        blocks.push({ kind: 'match', patterns: args, lines: [] })
        notes.push(`Skipped "Match ${args.join(' ')}" (${path.basename(f)} line ${index + 1}): its conditions are only known while connecting; check those hosts' settings after import.`)
        return
      }
      if (kw.keyword === 'include') {
        const owner = current()
        for (const pattern of args) {
          for (const inc of expandIncludeGlob(pattern, sshDir, home)) {
            try {
              if (!statSync(inc).isFile()) continue
            } catch {
              continue
            }
            // Lines of an included file belong to the block the Include sits in, until the
            // included file opens its own Host/Match block.
            const before = blocks.length
            readInto(inc, depth + 1, () => (blocks.length === before ? owner : blocks[blocks.length - 1]))
            if (blocks.length !== before) {
              // After the included file, OpenSSH continues in the including block's context.
              blocks.push({ ...owner, lines: [] })
            }
          }
        }
        return
      }
      current().lines.push({ keyword: kw.keyword, args, file: f, line: index + 1 })
    })
  }
  readInto(file, 0, () => blocks[blocks.length - 1])
  return { blocks, notes, aliases }
}

function expandHostNameTokens(value: string, alias: string): string {
  return value.replace(/%([%h])/g, (_, t: string) => (t === '%' ? '%' : alias))
}

export function resolveHost(config: ParsedConfig, alias: string): ResolvedHost {
  const first = new Map<string, string[]>()
  const identityFiles: string[] = []
  for (const block of config.blocks) {
    if (block.kind === 'match') continue
    if (block.kind === 'host' && !hostMatches(block.patterns, alias)) continue
    for (const line of block.lines) {
      if (line.keyword === 'identityfile') {
        if (line.args[0] && !identityFiles.includes(line.args[0])) identityFiles.push(line.args[0])
      } else if (!first.has(line.keyword)) first.set(line.keyword, line.args)
    }
  }
  const value = (k: string) => first.get(k)?.[0] ?? null
  const portText = value('port')
  const jump = value('proxyjump')
  return {
    alias,
    hostName: expandHostNameTokens(value('hostname') ?? alias, alias).toLowerCase(),
    user: value('user'),
    port: portText && /^\d+$/.test(portText) ? Number(portText) : null,
    identityFiles,
    proxyJump: jump && jump.toLowerCase() !== 'none' ? (first.get('proxyjump') ?? []).join(' ') : null,
  }
}

/** Expands `~` and the tokens OpenSSH allows in IdentityFile. */
export function expandIdentityFile(file: string, ctx: { home: string; localUser: string; host: string; remoteUser: string; port: number }): string {
  const withTokens = file.replace(/%([%dhupr])/g, (_, t: string) => {
    switch (t) {
      case '%':
        return '%'
      case 'd':
        return ctx.home
      case 'u':
        return ctx.localUser
      case 'h':
        return ctx.host
      case 'r':
        return ctx.remoteUser
      case 'p':
        return String(ctx.port)
    }
    return t
  })
  return withTokens === '~' ? ctx.home : withTokens.startsWith('~/') ? path.join(ctx.home, withTokens.slice(2)) : withTokens
}

/** "user@host:port" (first hop only) → parts; null when not of that form. */
export function parseProxyJump(spec: string): { user: string | null; host: string; port: number | null } | null {
  const firstHop = spec.split(',')[0].trim()
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(firstHop)
  if (!m) return null
  return { user: m[1] ?? null, host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : null }
}
