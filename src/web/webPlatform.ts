/**
 * The web host's Platform: honest equivalents of the Electron-only abilities (none for OS
 * notifications, a folder picker or drag-out: the page shows notifications as toasts, asks for a
 * typed path and offers a browser download).
 * Secrets stay in memory unless the user starts the host with --secrets-file, which keeps them
 * in a 0600 file and says so.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../main/services/atomicFile'
import type { Platform, SecretStore } from '../main/services/platform'

function memorySecrets(): SecretStore {
  const values = new Map<string, string>()
  return {
    info: () => ({ backend: 'memory', persistent: false, warning: 'The web host keeps passwords and passphrases in memory only; you will be asked again after a restart.' }),
    get: async (key) => values.get(key) ?? null,
    set: async (key, value) => void values.set(key, value),
    delete: async (key) => void values.delete(key),
  }
}

function fileSecrets(file: string): SecretStore {
  const load = (): Record<string, string> => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {})
  const save = async (values: Record<string, string>) => {
    await writeFileAtomic(file, JSON.stringify(values), 0o600)
    chmodSync(file, 0o600)
  }
  return {
    info: () => ({ backend: 'file', persistent: true, warning: `Secrets are stored unencrypted in ${file} (readable only by you). Use the desktop app for OS-encrypted storage.` }),
    get: async (key) => load()[key] ?? null,
    set: async (key, value) => save({ ...load(), [key]: value }),
    delete: async (key) => {
      const values = load()
      delete values[key]
      await save(values)
    },
  }
}

export interface WebPlatformOptions {
  dataDir: string
  bundleDir: string
  appVersion: string
  secretsFile: string | null
}

export function createWebPlatform(options: WebPlatformOptions): Platform {
  return {
    appVersion: options.appVersion,
    dataDir: options.dataDir,
    bundleDir: options.bundleDir,
    secrets: options.secretsFile ? fileSecrets(path.resolve(options.secretsFile)) : memorySecrets(),
    notify: null,
    chooseFolder: null,
    startDrag: null,
    log: (line) => process.stderr.write(`${line}\n`),
  }
}
