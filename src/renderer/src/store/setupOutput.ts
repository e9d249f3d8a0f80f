/** Set-up output per instance: a bounded text buffer outside the store, with listeners for live terminals. */
const MAX_OUTPUT = 2_000_000
const output = new Map<string, string>()
const listeners = new Map<string, Set<(data: string) => void>>()

export const setupOutput = {
  get: (id: string) => output.get(id) ?? '',
  append(id: string, data: string) {
    const next = (output.get(id) ?? '') + data
    output.set(id, next.length > MAX_OUTPUT ? next.slice(next.length - MAX_OUTPUT) : next)
    for (const l of listeners.get(id) ?? []) l(data)
  },
  clear(id: string) {
    output.set(id, '')
    for (const l of listeners.get(id) ?? []) l('\x1bc')
  },
  subscribe(id: string, listener: (data: string) => void): () => void {
    let set = listeners.get(id)
    if (!set) listeners.set(id, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  },
}
