/**
 * Web host: JSON envelopes over one WebSocket to /rpc (the token travels in an HttpOnly cookie).
 * Reconnects with backoff; subscriptions are replayed and calls in flight fail with a clear error.
 */
import { ServerEnvelopeSchema } from '../../../../shared/rpc'
import type { Transport } from '../client'

type Pending = (response: { ok: true; output: unknown } | { ok: false; error: { code: string; message: string } }) => void

export function createWsTransport(url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`): Transport {
  let socket: WebSocket | null = null
  let nextId = 1
  let backoffMs = 250
  const pending = new Map<number, Pending>()
  const listeners = new Map<string, Set<(payload: unknown, key?: string) => void>>()
  const statusListeners = new Set<(status: 'open' | 'closed') => void>()
  const queue: string[] = []
  const keyOf = (topic: string, key?: string) => `${topic}\u0000${key ?? ''}`
  const splitKey = (k: string) => {
    const [topic, key] = k.split('\u0000')
    return { topic, key: key === '' ? undefined : key }
  }

  const send = (message: object) => {
    const text = JSON.stringify(message)
    if (socket?.readyState === WebSocket.OPEN) socket.send(text)
    else queue.push(text)
  }

  const connect = () => {
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => {
      backoffMs = 250
      for (const k of listeners.keys()) {
        const { topic, key } = splitKey(k)
        ws.send(JSON.stringify(key === undefined ? { kind: 'sub', topic } : { kind: 'sub', topic, key }))
      }
      while (queue.length) ws.send(queue.shift() as string)
      for (const l of statusListeners) l('open')
    }
    ws.onmessage = (event) => {
      let data: unknown
      try {
        data = JSON.parse(String(event.data))
      } catch {
        return
      }
      const parsed = ServerEnvelopeSchema.safeParse(data)
      if (!parsed.success) return
      const message = parsed.data
      if (message.kind === 'res') {
        pending.get(message.id)?.(message.ok ? { ok: true, output: message.output } : { ok: false, error: message.error })
        pending.delete(message.id)
        return
      }
      const keys = [keyOf(message.topic), ...(message.key === undefined ? [] : [keyOf(message.topic, message.key)])]
      for (const k of keys) for (const l of listeners.get(k) ?? []) l(message.payload, message.key)
    }
    ws.onclose = () => {
      for (const resolve of pending.values()) {
        resolve({ ok: false, error: { code: 'unreachable', message: 'Lost the connection to the Gantry backend. Check that the terminal where you started Gantry (with `npm start` or `npm run web`) still runs it; this page reconnects by itself.' } })
      }
      pending.clear()
      for (const l of statusListeners) l('closed')
      setTimeout(connect, backoffMs)
      backoffMs = Math.min(backoffMs * 2, 5000)
    }
  }
  connect()

  return {
    call(method, input, signal) {
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        signal?.addEventListener('abort', () => send({ kind: 'cancel', id }), { once: true })
        send({ kind: 'req', id, method, input })
      })
    },
    subscribe(topic, key, listener) {
      const k = keyOf(topic, key)
      let set = listeners.get(k)
      if (!set) {
        listeners.set(k, (set = new Set()))
        send(key === undefined ? { kind: 'sub', topic } : { kind: 'sub', topic, key })
      }
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0) {
          listeners.delete(k)
          send(key === undefined ? { kind: 'unsub', topic } : { kind: 'unsub', topic, key })
        }
      }
    },
    onStatus(listener) {
      statusListeners.add(listener)
      return () => statusListeners.delete(listener)
    },
    // A browser never reveals where a dropped file lives.
    pathOf: () => null,
  }
}
