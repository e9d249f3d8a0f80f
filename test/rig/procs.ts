/**
 * Finding a test's own processes through /proc by their argv (never by process name, which
 * could hit anything else on the machine).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Pids of the live processes whose argv satisfies `match`. */
export function pidsWhereArgv(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (match(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'))) pids.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return pids
}
