/**
 * Electron's Platform: OS-encrypted secrets (safeStorage), native dialogs, drag-out and OS
 * notifications. On Linux without a keyring safeStorage silently uses a hard-coded key
 * ("basic_text"): we say so, and services refuse to store secrets unless the user agrees.
 */
import { app, BrowserWindow, dialog, nativeImage, Notification as OsNotification, safeStorage, type WebContents } from 'electron'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../services/atomicFile'
import type { Platform, SecretStore } from '../services/platform'

function safeStorageSecrets(file: string): SecretStore {
  const load = (): Record<string, string> => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {})
  const backend = () => (process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : process.platform === 'darwin' ? 'keychain' : 'dpapi')
  return {
    info() {
      const name = backend()
      const weak = !safeStorage.isEncryptionAvailable() || name === 'basic_text'
      return {
        backend: name,
        persistent: true,
        warning: weak ? 'No system keyring was found, so secrets could only be stored with a fixed key anyone can read. Install and unlock a keyring (e.g. GNOME Keyring or KWallet) or use an SSH agent instead.' : null,
      }
    },
    async get(key) {
      const encoded = load()[key]
      return encoded ? safeStorage.decryptString(Buffer.from(encoded, 'base64')) : null
    },
    async set(key, value) {
      await writeFileAtomic(file, JSON.stringify({ ...load(), [key]: safeStorage.encryptString(value).toString('base64') }), 0o600)
    },
    async delete(key) {
      const values = load()
      delete values[key]
      await writeFileAtomic(file, JSON.stringify(values), 0o600)
    },
  }
}

export function createElectronPlatform(bundleDir: string): Platform {
  const dataDir = app.getPath('userData')
  return {
    appVersion: app.getVersion(),
    dataDir,
    bundleDir,
    secrets: safeStorageSecrets(path.join(dataDir, 'secrets.json')),
    notify({ title, body }) {
      if (OsNotification.isSupported()) new OsNotification({ title, body }).show()
    },
    async chooseFolder(title) {
      const win = BrowserWindow.getFocusedWindow()
      const result = win
        ? await dialog.showOpenDialog(win, { title, properties: ['openDirectory', 'createDirectory'] })
        : await dialog.showOpenDialog({ title, properties: ['openDirectory', 'createDirectory'] })
      return result.canceled ? null : (result.filePaths[0] ?? null)
    },
    startDrag(sender, filePath) {
      const contents = sender as WebContents
      contents.startDrag({ file: filePath, icon: nativeImage.createFromPath(path.join(bundleDir, 'resources', 'icons', 'model.png')) })
    },
    log: (line) => console.error(line),
  }
}
