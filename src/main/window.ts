/**
 * The one BrowserWindow, hardened: sandboxed renderer with context isolation and no Node, a
 * strict CSP, no navigation away from the app, no new windows, every permission request denied.
 */
import { BrowserWindow, session, shell } from 'electron'
import path from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'

export function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${path.join(__dirname, '../renderer/index.html')}`
}

export function isAppUrl(url: string): boolean {
  const base = rendererUrl()
  if (base.startsWith('file://')) return url.startsWith(`file://${path.join(__dirname, '../renderer')}`)
  return new URL(url).origin === new URL(base).origin
}

export function hardenSession(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
}

export function createMainWindow(iconPath: string): BrowserWindow {
  const win = new BrowserWindow({
    icon: iconPath,
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    backgroundColor: '#0f1115',
    title: 'Gantry',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  })
  win.once('ready-to-show', () => win.show())
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links in logs and docs open in the user's browser, and only http(s).
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-attach-webview', (event) => event.preventDefault())
  void win.loadURL(rendererUrl())
  return win
}
