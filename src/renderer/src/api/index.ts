/** The transport is chosen once, here, at boot; nothing else in the renderer branches on it. */
import { createClient } from './client'
import { createIpcTransport, hasIpcBridge } from './transports/ipc'
import { createWsTransport } from './transports/ws'

export const api = createClient(hasIpcBridge() ? createIpcTransport() : createWsTransport())
export type { Client } from './client'
