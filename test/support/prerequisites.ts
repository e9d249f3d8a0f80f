/** Where the repository is, and the one rule for a missing prerequisite (Python, sshd, torch…). */
import path from 'node:path'

export const REPO_ROOT = path.resolve(__dirname, '..', '..')

/** True when `ok`; otherwise false (skip, naming the install) locally, or throws under CI=true so nothing is silently skipped. */
export function requirePrerequisite(ok: boolean, what: string, install: string): boolean {
  if (ok) return true
  const message = `${what} is missing: ${install}`
  if (process.env.CI === 'true') throw new Error(message)
  console.warn(`[skip] ${message}`)
  return false
}
