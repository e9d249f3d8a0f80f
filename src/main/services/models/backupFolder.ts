/**
 * The backup folder on this computer: `<backup>/<instance>/<run>/<game>/<file>` plus one
 * `manifest.json` per run (file, sha256, size, verified_at, source), and the models settings in
 * the data folder. Every write is atomic; manifest updates of one run are serialised.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { ModelsSettings } from '../../../shared/api/models'
import { FileName, GameName, RemoteRelPath } from '../../../shared/ids'
import { writeFileAtomic } from '../atomicFile'
import { containedPath } from '../containedPath'

export const ManifestEntry = z.object({
  /** `<game>/<file>` inside the run folder. */
  file: z.string().refine((f) => {
    const [game, name, ...rest] = f.split('/')
    return rest.length === 0 && GameName.safeParse(game).success && FileName.safeParse(name).success
  }),
  /** The host's root-relative path: the row's key. */
  path: RemoteRelPath,
  kind: z.string(),
  game: GameName,
  sha256: z.string(),
  size: z.number(),
  verified_at: z.number(),
  /** `<instanceId>:<absolute path on the host>`. */
  source: z.string(),
})
export type ManifestEntry = z.infer<typeof ManifestEntry>
const Manifest = z.object({ version: z.literal(1), files: z.array(ManifestEntry) })

export function defaultSettings(dataDir: string): ModelsSettings {
  return { backupFolder: path.join(dataDir, 'models'), scheduleHours: 24, backupOnEvents: true, includeCheckpoints: false }
}

export interface Destination {
  root: string
  segments: string[]
  path: string
}

export interface BackupFolder {
  settings(): Promise<ModelsSettings>
  updateSettings(patch: Partial<ModelsSettings>): Promise<ModelsSettings>
  runDir(instanceId: string, runId: string): Promise<string>
  /**
   * Where a model's verified copy goes: the backup folder, the segments below it, and the path they
   * make (checked to stay inside the folder). The download process checks the same again.
   */
  destination(instanceId: string, runId: string, game: string, file: string): Promise<Destination>
  manifest(instanceId: string, runId: string): Promise<ManifestEntry[]>
  recordVerified(instanceId: string, runId: string, entry: ManifestEntry): Promise<void>
  /** The manifest entry for `relPath` whose file is still on disk with its recorded size. */
  verifiedCopy(instanceId: string, runId: string, relPath: string): Promise<(ManifestEntry & { localPath: string }) | null>
}

export function createBackupFolder(dataDir: string): BackupFolder {
  const settingsFile = path.join(dataDir, 'models-settings.json')
  let cached: ModelsSettings | null = null
  const chains = new Map<string, Promise<unknown>>()

  async function settings(): Promise<ModelsSettings> {
    if (cached) return cached
    const defaults = defaultSettings(dataDir)
    try {
      const parsed = ModelsSettings.partial().safeParse(JSON.parse(await readFile(settingsFile, 'utf8')))
      cached = { ...defaults, ...(parsed.success ? parsed.data : {}) }
    } catch {
      cached = defaults
    }
    return cached
  }

  /** Every path under the backup folder holds host-chosen names, so each one is contained. */
  async function runDir(instanceId: string, runId: string): Promise<string> {
    return containedPath((await settings()).backupFolder, instanceId, runId)
  }

  async function manifest(instanceId: string, runId: string): Promise<ManifestEntry[]> {
    try {
      const parsed = Manifest.safeParse(JSON.parse(await readFile(path.join(await runDir(instanceId, runId), 'manifest.json'), 'utf8')))
      return parsed.success ? parsed.data.files : []
    } catch {
      return []
    }
  }

  return {
    settings,
    async updateSettings(patch) {
      const next = ModelsSettings.parse({ ...(await settings()), ...patch })
      next.backupFolder = path.resolve(next.backupFolder)
      await writeFileAtomic(settingsFile, `${JSON.stringify(next, null, 2)}\n`)
      cached = next
      return next
    },
    runDir,
    async destination(instanceId, runId, game, file) {
      const root = (await settings()).backupFolder
      const segments = [instanceId, runId, game, file]
      return { root, segments, path: await containedPath(root, ...segments) }
    },
    manifest,
    recordVerified(instanceId, runId, entry) {
      const key = `${instanceId}/${runId}`
      const next = (chains.get(key) ?? Promise.resolve()).then(async () => {
        const files = (await manifest(instanceId, runId)).filter((e) => e.path !== entry.path)
        files.push(entry)
        files.sort((a, b) => a.file.localeCompare(b.file))
        await writeFileAtomic(path.join(await runDir(instanceId, runId), 'manifest.json'), `${JSON.stringify({ version: 1, files }, null, 2)}\n`)
      })
      chains.set(key, next.catch(() => {}))
      return next
    },
    async verifiedCopy(instanceId, runId, relPath) {
      const entry = (await manifest(instanceId, runId)).find((e) => e.path === relPath)
      if (!entry) return null
      const localPath = await containedPath((await settings()).backupFolder, instanceId, runId, ...entry.file.split('/'))
      const size = await stat(localPath).then((s) => s.size, () => -1)
      return size === entry.size ? { ...entry, localPath } : null
    },
  }
}
