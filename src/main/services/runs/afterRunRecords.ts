/**
 * This computer's side of "after the run": per run, whether its after-run command is armed,
 * cancelled, being started, or done, in `after-run.json` in the data folder (atomic writes). The
 * host's `runs/<id>/after_run.json` is the guard that the command never runs twice; this file is
 * what the desktop remembers between restarts, so a run it saw finish is never asked about again.
 */
import { readFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { writeFileAtomic } from '../atomicFile'

export const AfterRunRecord = z.object({
  /** starting: written before the host is asked to run it; the host's answer (or its record) settles it. */
  state: z.enum(['armed', 'cancelled', 'starting', 'started', 'finished']),
  armedAt: z.number(),
  /** Who cancelled it: the user (stays cancelled) or a stop the user asked for (resuming the run arms it again). */
  cancelledBy: z.enum(['user', 'stop']).nullable().default(null),
  /** The command as it was run (set when it starts). */
  command: z.string().nullable().default(null),
  message: z.string().nullable().default(null),
  startedAt: z.number().nullable().default(null),
  finishedAt: z.number().nullable().default(null),
  exitCode: z.number().int().nullable().default(null),
  timedOut: z.boolean().default(false),
  output: z.string().nullable().default(null),
})
export type AfterRunRecord = z.infer<typeof AfterRunRecord>

const RecordsFile = z.object({ version: z.literal(1), runs: z.record(z.string(), AfterRunRecord) })

export interface AfterRunRecords {
  get(key: string): Promise<AfterRunRecord | null>
  /** Replace one run's record (written to disk before this resolves). */
  put(key: string, record: AfterRunRecord): Promise<void>
  keys(): Promise<string[]>
}

export function createAfterRunRecords(dataDir: string, log: (line: string) => void): AfterRunRecords {
  const file = path.join(dataDir, 'after-run.json')
  let loaded: Promise<Record<string, AfterRunRecord>> | null = null
  let writes: Promise<unknown> = Promise.resolve()

  async function read(): Promise<Record<string, AfterRunRecord>> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      return {}
    }
    const parsed = RecordsFile.safeParse((() => {
      try {
        return JSON.parse(text)
      } catch {
        return null
      }
    })())
    if (parsed.success) return parsed.data.runs
    // Set aside, never silently overwritten. Losing it is safe: an armed run is simply not armed
    // any more, and a run whose command ran is refused by the host's own record.
    const aside = `${file}.corrupt-${Date.now()}`
    await rename(file, aside).catch(() => {})
    log(`[after-run] ${file} could not be read; kept as ${aside}. Runs armed before are no longer armed.`)
    return {}
  }

  const all = () => (loaded ??= read())

  return {
    async get(key) {
      return (await all())[key] ?? null
    },
    async put(key, record) {
      const runs = await all()
      // Writes go one at a time, each with every record already on disk plus this one; the record is
      // visible to get() only once it is on disk, so nothing acts on a state that is not yet durable
      // (status shown, a command started) and a failed write leaves the old record in place.
      const next = writes.then(async () => {
        await writeFileAtomic(file, `${JSON.stringify({ version: 1, runs: { ...runs, [key]: record } }, null, 2)}\n`)
        runs[key] = record
      })
      writes = next.catch(() => {})
      await next
    },
    async keys() {
      return Object.keys(await all())
    },
  }
}
