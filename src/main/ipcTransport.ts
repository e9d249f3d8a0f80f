/**
 * Electron IPC ↔ the shared connection handler. Only frames showing our own renderer may talk
 * to the backend; anything else (an injected iframe, a navigated-away page) is ignored.
 */
import { ipcMain, type WebContents, type WebFrameMain } from 'electron'
import { serveConnection, type ServedConnection } from './services/connection'
import type { Services } from './services/index'
import { isAppUrl } from './appUrl'
import { rendererUrl } from './window'

export const IPC_CHANNEL = 'gantry:rpc'
export const IPC_EVENT_CHANNEL = 'gantry:evt'

function trustedFrame(frame: WebFrameMain | null): boolean {
  return !!frame && frame === frame.top && isAppUrl(frame.url, rendererUrl())
}

export function registerIpcTransport(services: Services): void {
  const connections = new Map<number, ServedConnection>()

  const connectionFor = (contents: WebContents): ServedConnection => {
    let connection = connections.get(contents.id)
    if (!connection) {
      connection = serveConnection(services, {
        id: `ipc-${contents.id}`,
        transport: 'ipc',
        sender: contents,
        send: (envelope) => {
          if (contents.isDestroyed()) return
          contents.send(IPC_EVENT_CHANNEL, envelope)
        },
      })
      connections.set(contents.id, connection)
      const drop = () => {
        connections.get(contents.id)?.close()
        connections.delete(contents.id)
      }
      contents.once('destroyed', drop)
      contents.on('did-start-navigation', (details) => {
        if (details.isMainFrame && !details.isSameDocument) drop()
      })
    }
    return connection
  }

  ipcMain.on(IPC_CHANNEL, (event, message: unknown) => {
    if (!trustedFrame(event.senderFrame)) return
    connectionFor(event.sender).receive(message)
  })
}
