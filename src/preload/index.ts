/**
 * The renderer's only door to the backend: one function per contract method plus `on` for
 * events (and `pathForFile` for drops), exposed with contextBridge. No ipcRenderer, no Node.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { eventTopics, methodNames } from '../shared/contract'

const RPC = 'gantry:rpc'
const EVT = 'gantry:evt'

type Response = { kind: 'res'; id: number; ok: boolean; output?: unknown; error?: { code: string; message: string } }
type Event = { kind: 'evt'; topic: string; key?: string; payload: unknown }

const pending = new Map<number, (response: Response) => void>()
const tagged = new Map<string, number>()
const listeners = new Map<string, Set<(payload: unknown, key?: string) => void>>()
let nextId = 1
const topics = new Set<string>(eventTopics)

const listenerKey = (topic: string, key?: string) => `${topic}\u0000${key ?? ''}`

ipcRenderer.on(EVT, (_event, message: Response | Event) => {
  if (message.kind === 'res') {
    pending.get(message.id)?.(message)
    pending.delete(message.id)
    return
  }
  for (const k of [listenerKey(message.topic), ...(message.key === undefined ? [] : [listenerKey(message.topic, message.key)])]) {
    for (const listener of listeners.get(k) ?? []) listener(message.payload, message.key)
  }
})

function call(method: string, input: unknown, tag?: string): Promise<Response> {
  const id = nextId++
  if (tag) tagged.set(tag, id)
  return new Promise((resolve) => {
    pending.set(id, (response) => {
      if (tag) tagged.delete(tag)
      resolve(response)
    })
    ipcRenderer.send(RPC, { kind: 'req', id, method, input })
  })
}

const api: Record<string, unknown> = {}
for (const name of methodNames) api[name] = (input: unknown, tag?: string) => call(name, input, typeof tag === 'string' ? tag : undefined)

api.cancel = (tag: string) => {
  const id = tagged.get(tag)
  if (id !== undefined) ipcRenderer.send(RPC, { kind: 'cancel', id })
}

api.on = (topic: string, key: string | undefined, listener: (payload: unknown, key?: string) => void) => {
  if (!topics.has(topic) || typeof listener !== 'function') throw new Error(`Unknown event topic "${topic}".`)
  const k = listenerKey(topic, key)
  let set = listeners.get(k)
  if (!set) {
    listeners.set(k, (set = new Set()))
    ipcRenderer.send(RPC, key === undefined ? { kind: 'sub', topic } : { kind: 'sub', topic, key })
  }
  set.add(listener)
  return () => {
    set.delete(listener)
    if (set.size === 0) {
      listeners.delete(k)
      ipcRenderer.send(RPC, key === undefined ? { kind: 'unsub', topic } : { kind: 'unsub', topic, key })
    }
  }
}

// The one non-RPC ability: the local path of a file or folder dropped onto the window
// (Electron removed File.path); used to pick the backup folder by drag and drop.
api.pathForFile = (file: File) => webUtils.getPathForFile(file) || null

contextBridge.exposeInMainWorld('gantry', api)
