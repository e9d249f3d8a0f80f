/**
 * The typed API the UI uses: one async function per contract method, plus `on` for events.
 * Outputs are parsed with the contract too, so a backend/renderer mismatch fails loudly here.
 */
import { contract, methodNames, type ApiClient, type EventMap, type EventTopic, type MethodName } from '../../../shared/contract'
import { RpcError, type ErrorCode } from '../../../shared/rpc'

/** What a wire must provide. Implemented only by transports/ipc.ts and transports/ws.ts. */
export interface Transport {
  call(method: string, input: unknown, signal?: AbortSignal): Promise<{ ok: true; output: unknown } | { ok: false; error: { code: string; message: string } }>
  subscribe(topic: string, key: string | undefined, listener: (payload: unknown, key?: string) => void): () => void
  /** Connection status for the UI ("reconnecting to the Gantry backend…"). */
  onStatus(listener: (status: 'open' | 'closed') => void): () => void
  /** Local path of a dropped file or folder; null where the page cannot know it (a browser). */
  pathOf(file: File): string | null
}

export type Client = ApiClient & {
  on<T extends EventTopic>(topic: T, listener: (payload: EventMap[T], key?: string) => void, key?: string): () => void
  onStatus: Transport['onStatus']
  pathOf: Transport['pathOf']
  withSignal(signal: AbortSignal): ApiClient
}

export function createClient(transport: Transport): Client {
  const make = (signal?: AbortSignal): ApiClient => {
    const api: Record<string, (input: unknown) => Promise<unknown>> = {}
    for (const name of methodNames) {
      api[name] = async (input: unknown) => {
        const response = await transport.call(name, input ?? {}, signal)
        if (!response.ok) throw new RpcError(response.error.code as ErrorCode, response.error.message)
        return (contract.methods[name as MethodName].output as { parse(v: unknown): unknown }).parse(response.output)
      }
    }
    return api as unknown as ApiClient
  }
  const events = contract.events as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>
  return Object.assign(make(), {
    on<T extends EventTopic>(topic: T, listener: (payload: EventMap[T], key?: string) => void, key?: string) {
      return transport.subscribe(topic, key, (payload, k) => {
        const parsed = events[topic].safeParse(payload)
        if (parsed.success) listener(parsed.data as EventMap[T], k)
        else console.warn(`Dropped malformed "${topic}" event`)
      })
    },
    onStatus: transport.onStatus.bind(transport),
    pathOf: transport.pathOf.bind(transport),
    withSignal: (signal: AbortSignal) => make(signal),
  })
}
