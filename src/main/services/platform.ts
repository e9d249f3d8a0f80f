/**
 * What differs between the Electron app and the web host, behind one small interface.
 * Services never import electron; src/main/platform and src/web provide implementations.
 * An ability one platform lacks is null there, and app.info reports it as a capability.
 */
import type { Notification } from '../../shared/api/app'

export interface SecretStoreInfo {
  /** e.g. "keychain", "gnome_libsecret", "basic_text", "memory", "file". */
  backend: string
  /** Whether secrets survive a restart. */
  persistent: boolean
  /** Set when the store is not truly safe; shown to the user before a secret is stored. */
  warning: string | null
}

export interface SecretStore {
  info(): SecretStoreInfo
  get(key: string): Promise<string | null>
  set(key: string, value: string): Promise<void>
  delete(key: string): Promise<void>
}

export interface Platform {
  appVersion: string
  /** The app's data folder (instances, local runs, backups by default). */
  dataDir: string
  /** Folder holding `remote/` (the Python uploaded to hosts) and `resources/` (plans, icons). */
  bundleDir: string
  secrets: SecretStore
  /**
   * An OS notification, besides the app.notification every window shows; null where there is
   * no OS to notify (the web host: its page shows the event as a toast).
   */
  notify: ((notification: Notification) => void) | null
  /** Native folder picker; null where the platform has none (the UI then asks for a path). */
  chooseFolder: ((title: string) => Promise<string | null>) | null
  /** Start dragging a local file out of the calling window; null where unsupported. */
  startDrag: ((sender: unknown, filePath: string) => void) | null
  log(line: string): void
}
