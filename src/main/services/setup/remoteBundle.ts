/**
 * The Python that runs on hosts (`remote/`), content-addressed: the hash covers every file's
 * relative path and bytes (skipping caches and tests), so a host that already has
 * `<root>/remote/<hash>/` needs no upload. Uploads go to a temp folder first and are renamed into
 * place with a marker file last, so a half-uploaded bundle is never mistaken for a complete one.
 * The files travel as one tar stream into `tar -x` on the host (tarArchive.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { SFTPWrapper } from 'ssh2'
import type { HostSession } from '../host/hostSession'
import { tarArchive } from './tarArchive'

export interface BundleFile {
  rel: string
  abs: string
  mode: number
}

export interface Bundle {
  dir: string
  /** 16 hex digits of the SHA-256 over paths and contents. */
  hash: string
  files: BundleFile[]
}

export const BUNDLE_MARKER = '.gantry-bundle'
const SKIP_DIRS = new Set(['__pycache__', 'tests', '.pytest_cache', '.mypy_cache', '.venv', 'venv'])

async function walk(dir: string, rel = ''): Promise<BundleFile[]> {
  const out: BundleFile[] = []
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true })
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await walk(dir, r)))
    } else if (e.isFile() && !e.name.endsWith('.pyc') && !e.name.startsWith('.')) {
      const abs = path.join(dir, r)
      out.push({ rel: r, abs, mode: (await stat(abs)).mode & 0o777 })
    }
  }
  return out
}

export async function hashBundle(dir: string): Promise<Bundle> {
  const files = (await walk(dir)).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const h = createHash('sha256')
  for (const f of files) {
    const data = await readFile(f.abs)
    h.update(`${f.rel}\0${data.length}\0`)
    h.update(data)
  }
  return { dir, hash: h.digest('hex').slice(0, 16), files }
}

function sftpCall<T>(fn: (cb: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))))
}

/** Whether `<root>/remote/<hash>/` is complete on the host. */
export async function bundlePresent(session: HostSession, hash: string): Promise<boolean> {
  try {
    await session.stat(`${session.root}/remote/${hash}/${BUNDLE_MARKER}`)
    return true
  } catch {
    return false
  }
}

/**
 * Uploads the bundle unless present. Returns whether it uploaded. `onProgress` gets a line per
 * stage (for the setup terminal).
 */
export async function uploadBundle(session: HostSession, sftp: SFTPWrapper, bundle: Bundle, onProgress: (line: string) => void = () => {}): Promise<boolean> {
  if (await bundlePresent(session, bundle.hash)) return false
  const base = `${session.root}/remote`
  const final = `${base}/${bundle.hash}`
  const tmp = `${base}/.upload-${bundle.hash}-${randomBytes(4).toString('hex')}`
  onProgress(`Uploading ${bundle.files.length} files (${bundle.hash}) to ${final}`)
  try {
    // One tar stream on one exec channel: a round trip in all, not an SFTP open/write/close per file.
    const archive = await tarArchive(bundle.files)
    const unpack = await session.run(['sh', '-c', 'mkdir -p -- "$1" && exec tar -x -f - -C "$1"', 'sh', tmp], { stdin: archive, timeoutMs: 300_000 })
    if (unpack.code !== 0) throw new Error(`Could not unpack the bundle into ${tmp} on the host (tar exit ${unpack.code}): ${unpack.stderr.trim().slice(-300) || 'no message'}`)
    await sftpCall<void>((cb) => sftp.writeFile(`${tmp}/${BUNDLE_MARKER}`, JSON.stringify({ hash: bundle.hash, files: bundle.files.length, uploadedAt: Date.now() }), (e) => cb(e)))
    try {
      await sftpCall<void>((cb) => sftp.rename(tmp, final, (e) => cb(e)))
    } catch (error) {
      // Another upload of the same content won the race: theirs is as good as ours.
      if (!(await bundlePresent(session, bundle.hash))) throw error
    }
  } finally {
    await session.run(['rm', '-rf', tmp]).catch(() => undefined)
  }
  onProgress(`Uploaded to ${final}`)
  return true
}
