/**
 * Electron entry: single instance → services → IPC transport → hardened window.
 */
import { app, BrowserWindow } from 'electron'
import path from 'node:path'
import { registerIpcTransport } from './ipcTransport'
import { createElectronPlatform } from './platform/electronPlatform'
import { createServices } from './services/index'
import { createMainWindow, hardenSession } from './window'

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0]
    if (win) {
      if (win.isMinimized()) win.restore()
      win.focus()
    }
  })

  void app.whenReady().then(() => {
    const bundleDir = app.isPackaged ? process.resourcesPath : path.resolve(__dirname, '..', '..')
    const services = createServices(createElectronPlatform(bundleDir))
    hardenSession()
    registerIpcTransport(services)
    const icon = path.join(bundleDir, 'resources', 'icons', 'icon.png')
    createMainWindow(icon)
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow(icon)
    })
    app.on('before-quit', () => void services.dispose())
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
}
