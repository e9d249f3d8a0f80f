/** Electron: the preload's `window.gantry` bridge. */
import type { Transport } from '../client'

type Bridge = Record<string, unknown> & {
  cancel(tag: string): void
  pathForFile(file: File): string | null
  on(topic: string, key: string | undefined, listener: (payload: unknown, key?: string) => void): () => void
}

type BridgeResponse = { ok: true; output: unknown } | { ok: false; error: { code: string; message: string } }

export function hasIpcBridge(): boolean {
  return typeof (globalThis as { gantry?: unknown }).gantry === 'object'
}

export function createIpcTransport(): Transport {
  const bridge = (globalThis as unknown as { gantry: Bridge }).gantry
  let tagCounter = 0
  return {
    async call(method, input, signal) {
      const fn = bridge[method] as ((input: unknown, tag?: string) => Promise<BridgeResponse>) | undefined
      if (typeof fn !== 'function') return { ok: false, error: { code: 'unknown_method', message: `Unknown method "${method}".` } }
      const tag = signal ? `t${++tagCounter}` : undefined
      const abort = () => tag && bridge.cancel(tag)
      signal?.addEventListener('abort', abort, { once: true })
      try {
        return await fn(input, tag)
      } finally {
        signal?.removeEventListener('abort', abort)
      }
    },
    subscribe: (topic, key, listener) => bridge.on(topic, key, listener),
    onStatus(listener) {
      listener('open')
      return () => {}
    },
    pathOf: (file) => bridge.pathForFile(file),
  }
}
