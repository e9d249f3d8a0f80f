/**
 * Checks a backup folder before it is saved: a full path, on a real filesystem, creatable and
 * writable, answered within a time limit. Folders are created one level at a time because
 * Node's `mkdir({ recursive: true })` retries ENOENT forever under /proc (Save used to hang while
 * the backend spun ~1,700 mkdir calls a second).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, stat, statfs, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RpcError } from '../../../shared/rpc'

/** Linux filesystems that hold no files of their own (statfs magic numbers, linux/magic.h). */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
])

export interface FolderCheckOptions {
  timeoutMs?: number
  /** The one filesystem call a test replaces to stand in for a drive that does not answer. */
  fs?: { statfs: (p: string) => Promise<{ type: number }> }
}

const DEFAULT_TIMEOUT_MS = 10_000

function refuse(folder: string, why: string): RpcError {
  return new RpcError('invalid_input', `Gantry cannot keep backups in ${folder}: ${why}. Choose a folder you own on this computer's disk, such as ${path.join('~', 'gantry-models')}.`)
}

async function nearestExisting(folder: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = []
  let current = folder
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null
      throw refuse(folder, `${current} cannot be read (${error.code ?? error.message})`)
    })
    if (info) {
      if (!info.isDirectory()) throw refuse(folder, `${current} is a file, not a folder`)
      return { existing: current, missing }
    }
    missing.unshift(path.basename(current))
    current = path.dirname(current)
  }
}

async function check(folder: string, fs: NonNullable<FolderCheckOptions['fs']>): Promise<string> {
  const { existing, missing } = await nearestExisting(folder)
  if (process.platform === 'linux') {
    const { type } = await fs.statfs(existing)
    const pseudo = PSEUDO_FILESYSTEMS.get(type)
    if (pseudo) throw refuse(folder, `${existing} is not on a disk (it is the kernel's ${pseudo} filesystem, which cannot hold files)`)
  }
  let current = existing
  for (const part of missing) {
    current = path.join(current, part)
    await mkdir(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw refuse(folder, `${current} cannot be created (${error.code ?? error.message})`)
    })
  }
  const probe = path.join(folder, `.gantry-write-check-${randomBytes(4).toString('hex')}`)
  try {
    await writeFile(probe, 'gantry')
  } catch (error) {
    throw refuse(folder, `it is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  await unlink(probe).catch(() => {})
  return folder
}

/** The folder as an absolute path, created and proven writable; an RpcError says what is wrong. */
export async function checkBackupFolder(folder: string, options: FolderCheckOptions = {}): Promise<string> {
  if (!path.isAbsolute(folder)) throw new RpcError('invalid_input', `"${folder}" is not a full path. Choose a folder such as /home/you/gantry-models.`)
  const resolved = path.resolve(folder)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(refuse(resolved, `its filesystem did not answer within ${timeoutMs / 1000} s (a network drive that is not reachable?)`)), timeoutMs)
  })
  try {
    return await Promise.race([check(resolved, options.fs ?? { statfs }), timeout])
  } finally {
    clearTimeout(timer)
  }
}
