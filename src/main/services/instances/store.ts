/**
 * instances.json in the app's data folder: one schema-versioned file, zod-validated on read,
 * written atomically after every change. A file that does not parse is never reset silently:
 * it is renamed aside (instances.corrupt-<ts>.json) and the caller tells the user.
 * Secrets are not here (Platform.secrets holds them); only whether one is kept.
 */
import { readFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { AddedInstanceKind, AuthInfo, InstanceId, JumpHostInfo, PinnedHostKey, SetupState, SlurmSettings, slurmMatchesKind } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import { writeFileAtomic } from '../atomicFile'

const StoredInstanceFields = z.object({
  id: InstanceId,
  kind: AddedInstanceKind,
  name: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  auth: AuthInfo,
  jump: JumpHostInfo.nullable(),
  hourlyPrice: z.number().nonnegative().nullable(),
  notes: z.string(),
  /** Gantry's folder on the host, as entered ("~/.gantry" or an absolute path). */
  gantryRoot: z.string().min(1),
  hostKey: PinnedHostKey.nullable(),
  jumpHostKey: PinnedHostKey.nullable(),
  setup: SetupState,
  createdAt: z.number(),
  /** A SLURM cluster's settings; absent in files written before SLURM instances existed. */
  slurm: SlurmSettings.nullable().default(null),
  /** The "after the run" command ('' = none); absent in files written before it existed. */
  afterRunCommand: z.string().default(''),
})
/**
 * Files written before instances had a kind: one with SLURM settings was a SLURM cluster, any
 * other an SSH host. They load with that kind (nothing else changes) and are saved with it.
 */
function addKind(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'kind' in value) return value
  const slurm = (value as { slurm?: unknown }).slurm
  return { ...value, kind: slurm !== undefined && slurm !== null ? 'slurm' : 'ssh' }
}

/** Files written before the folder was called gantryRoot name it remoteRoot; they load unchanged and are saved with the new name. */
function renameRemoteRoot(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('remoteRoot' in value) || 'gantryRoot' in value) return value
  const { remoteRoot, ...rest } = value as Record<string, unknown>
  return { ...rest, gantryRoot: remoteRoot }
}

export const StoredInstance = z.preprocess((value) => addKind(renameRemoteRoot(value)), StoredInstanceFields.superRefine(slurmMatchesKind))
export type StoredInstance = z.infer<typeof StoredInstance>

export const InstancesFile = z.object({
  version: z.literal(1),
  instances: z.array(StoredInstance),
  localSetup: SetupState,
})
export type InstancesFile = z.infer<typeof InstancesFile>

export const NOT_CHECKED: z.infer<typeof SetupState> = { status: 'unknown', remoteHash: null, checkedAt: null, message: null }

export interface InstanceStore {
  readonly file: string
  /** Reads the file; returns a sentence for the user when it was corrupt and set aside. */
  load(): Promise<string | null>
  all(): StoredInstance[]
  get(id: string): StoredInstance | undefined
  /** The instance, or an RpcError "not_found" whose sentence tells the user what to do. */
  require(id: string): StoredInstance
  put(instance: StoredInstance): Promise<void>
  remove(id: string): Promise<void>
  localSetup(): z.infer<typeof SetupState>
  setLocalSetup(state: z.infer<typeof SetupState>): Promise<void>
}

export function createInstanceStore(dataDir: string): InstanceStore {
  const file = path.join(dataDir, 'instances.json')
  let data: InstancesFile = { version: 1, instances: [], localSetup: NOT_CHECKED }
  let writes: Promise<void> = Promise.resolve()

  // Writes are queued so two quick changes land in order and the last one wins on disk.
  const save = (): Promise<void> => {
    const snapshot = JSON.stringify(data, null, 2)
    writes = writes.catch(() => {}).then(() => writeFileAtomic(file, `${snapshot}\n`, 0o600))
    return writes
  }

  return {
    file,
    async load() {
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw error
      }
      let problem: string
      try {
        const parsed = InstancesFile.safeParse(JSON.parse(text))
        if (parsed.success) {
          data = parsed.data
          return null
        }
        const issue = parsed.error.issues[0]
        problem = `${issue.path.join('.') || 'file'}: ${issue.message}`
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error)
      }
      const aside = path.join(dataDir, `instances.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
      await rename(file, aside)
      return `Your instance list (${file}) could not be read (${problem}). It was kept as ${aside}; Gantry started with an empty list. Fix or restore that file and restart, or add the instances again.`
    },
    all: () => data.instances,
    get: (id) => data.instances.find((i) => i.id === id),
    require(id) {
      const found = data.instances.find((i) => i.id === id)
      if (!found) throw new RpcError('not_found', `There is no instance "${id}". It may have been removed; refresh the list.`)
      return found
    },
    async put(instance) {
      const checked = StoredInstance.parse(instance)
      const at = data.instances.findIndex((i) => i.id === checked.id)
      data = { ...data, instances: at < 0 ? [...data.instances, checked] : data.instances.map((i, n) => (n === at ? checked : i)) }
      await save()
    },
    async remove(id) {
      data = { ...data, instances: data.instances.filter((i) => i.id !== id) }
      await save()
    },
    localSetup: () => data.localSetup,
    async setLocalSetup(state) {
      data = { ...data, localSetup: state }
      await save()
    },
  }
}
