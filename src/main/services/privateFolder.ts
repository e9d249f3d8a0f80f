/**
 * The data folder holds instances, pinned host keys, secrets (web host), local runs and, by
 * default, the model backups: like ~/.ssh it is the user's alone (0700), however it came to exist.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs'

export function makePrivateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
}
