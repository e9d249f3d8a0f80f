/**
 * The one BrowserWindow, hardened: sandboxed renderer with context isolation and no Node, a
 * strict CSP, no navigation away from the app, no new windows, every permission request denied.
 * The navigation rules are applied to every webContents Electron ever creates, not only ours.
 */
import { app, BrowserWindow, session, shell, type WebContents } from 'electron'
import path from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import { isAppUrl, isExternalLink } from './appUrl'

export function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${path.join(__dirname, '../renderer/index.html')}`
}

/** No navigation or redirect away from the app, no new windows (http(s) links go to the browser), no webviews. */
function hardenWebContents(contents: WebContents): void {
  const stayInApp = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url, rendererUrl())) event.preventDefault()
  }
  contents.on('will-navigate', stayInApp)
  contents.on('will-redirect', stayInApp)
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

export function hardenSession(): void {
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents))
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
  void win.loadURL(rendererUrl())
  return win
}
