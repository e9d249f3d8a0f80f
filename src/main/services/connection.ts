/**
 * One client connection, whatever the wire: parses client envelopes, routes requests (with
 * cancellation), manages event subscriptions. Used by the Electron IPC transport and the web
 * host's WebSocket alike, so both behave identically.
 */
import { eventTopics } from '../../shared/contract'
import { ClientEnvelope, type ServerEnvelope } from '../../shared/rpc'
import type { Services } from './index'

export interface ConnectionOptions {
  id: string
  transport: 'ipc' | 'ws'
  send(envelope: ServerEnvelope): void
  sender?: unknown
}

export interface ServedConnection {
  /** Feed one raw message from the client; invalid messages are answered, never thrown. */
  receive(raw: unknown): void
  close(): void
}

const knownTopics = new Set<string>(eventTopics)

export function serveConnection(services: Services, options: ConnectionOptions): ServedConnection {
  const inflight = new Map<number, AbortController>()
  const busConnection = services.bus.connect(options.id, (envelope) => options.send(envelope))
  let closed = false

  return {
    receive(raw) {
      if (closed) return
      const parsed = ClientEnvelope.safeParse(raw)
      if (!parsed.success) {
        const id = typeof raw === 'object' && raw && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1
        options.send({ kind: 'res', id, ok: false, error: { code: 'invalid_input', message: 'Malformed message from the app window; it was ignored.' } })
        return
      }
      const msg = parsed.data
      if (msg.kind === 'sub' || msg.kind === 'unsub') {
        if (!knownTopics.has(msg.topic)) return
        if (msg.kind === 'sub') busConnection.subscribe(msg.topic, msg.key)
        else busConnection.unsubscribe(msg.topic, msg.key)
        return
      }
      if (msg.kind === 'cancel') {
        inflight.get(msg.id)?.abort()
        return
      }
      const controller = new AbortController()
      inflight.set(msg.id, controller)
      void services.router
        .call(msg.id, msg.method, msg.input, { connectionId: options.id, transport: options.transport, signal: controller.signal, sender: options.sender })
        .then((response) => {
          inflight.delete(msg.id)
          if (!closed) options.send(response)
        })
    },
    close() {
      if (closed) return
      closed = true
      for (const controller of inflight.values()) controller.abort()
      inflight.clear()
      busConnection.close()
    },
  }
}
