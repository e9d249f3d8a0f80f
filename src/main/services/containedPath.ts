/**
 * The one way to build a local path from names a host (or a file written from a host's answer)
 * chose: join the segments under a root, resolve the result through every symlink that already
 * exists, and refuse it unless it stays inside the root's own resolved path. The ids are
 * already checked one by one (src/shared/ids.ts); this is the last line, where the path is made.
 */
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { RpcError } from '../../shared/rpc'

/** The real path of `p`: the longest prefix that exists, resolved through symlinks, plus the rest. */
async function resolveExisting(p: string): Promise<string> {
  const rest: string[] = []
  let current = path.resolve(p)
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest.reverse())
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error
      const parent = path.dirname(current)
      if (parent === current) return path.join(current, ...rest.reverse())
      rest.push(path.basename(current))
      current = parent
    }
  }
}

/** `root/segments…` resolved, or an RpcError when it would land outside `root`. */
export async function containedPath(root: string, ...segments: string[]): Promise<string> {
  const refuse = () =>
    new RpcError('invalid_input', `Refused a path outside ${root}: the name "${segments.join('/').replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}" came from a host and would leave that folder. Nothing was written.`)
  if (segments.some((s) => s === '' || s.includes('\0'))) throw refuse()
  const realRoot = await resolveExisting(root)
  const inside = (p: string) => {
    const relative = path.relative(realRoot, p)
    return relative !== '' && !path.isAbsolute(relative) && relative.split(path.sep)[0] !== '..'
  }
  const joined = path.resolve(realRoot, ...segments)
  if (!inside(joined)) throw refuse()
  const real = await resolveExisting(joined)
  if (!inside(real)) throw refuse()
  return real
}
