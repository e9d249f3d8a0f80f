/**
 * Events from services to connected clients. A client sees an event only after subscribing to
 * its topic (optionally narrowed to one key, e.g. a terminal id or a run id).
 */
import type { EventMap, EventTopic } from '../../shared/contract'
import type { EventEnvelope } from '../../shared/rpc'

export interface BusConnection {
  readonly id: string
  subscribe(topic: string, key?: string): void
  unsubscribe(topic: string, key?: string): void
  close(): void
}

export interface EventBus {
  emit<T extends EventTopic>(topic: T, payload: EventMap[T], key?: string): void
  connect(id: string, deliver: (envelope: EventEnvelope) => void): BusConnection
  /** Called when a connection closes, so services can release what it held (terminals…). */
  onDisconnect(listener: (connectionId: string) => void): () => void
  /** In-process listener (one service reacting to another's events); returns an unsubscribe. */
  listen<T extends EventTopic>(topic: T, listener: (payload: EventMap[T], key?: string) => void): () => void
}

const ALL_KEYS = '\u0000all'

export function createEventBus(): EventBus {
  const connections = new Map<string, { deliver: (e: EventEnvelope) => void; subs: Map<string, Set<string>> }>()
  const disconnectListeners = new Set<(connectionId: string) => void>()
  const listeners = new Map<string, Set<(payload: never, key?: string) => void>>()
  return {
    emit(topic, payload, key) {
      for (const listener of listeners.get(topic) ?? []) {
        try {
          listener(payload as never, key)
        } catch {
          // a listener's failure must not stop delivery to clients
        }
      }
      const envelope: EventEnvelope = key === undefined ? { kind: 'evt', topic, payload } : { kind: 'evt', topic, key, payload }
      for (const conn of connections.values()) {
        const keys = conn.subs.get(topic)
        if (!keys) continue
        if (keys.has(ALL_KEYS) || (key !== undefined && keys.has(key))) conn.deliver(envelope)
      }
    },
    connect(id, deliver) {
      const subs = new Map<string, Set<string>>()
      connections.set(id, { deliver, subs })
      return {
        id,
        subscribe(topic, key) {
          let keys = subs.get(topic)
          if (!keys) subs.set(topic, (keys = new Set()))
          keys.add(key ?? ALL_KEYS)
        },
        unsubscribe(topic, key) {
          const keys = subs.get(topic)
          keys?.delete(key ?? ALL_KEYS)
          if (keys && keys.size === 0) subs.delete(topic)
        },
        close() {
          if (!connections.delete(id)) return
          for (const listener of disconnectListeners) listener(id)
        },
      }
    },
    listen(topic, listener) {
      let set = listeners.get(topic)
      if (!set) listeners.set(topic, (set = new Set()))
      set.add(listener)
      return () => set.delete(listener)
    },
    onDisconnect(listener) {
      disconnectListeners.add(listener)
      return () => disconnectListeners.delete(listener)
    },
  }
}
