/**
 * Questions only the user can answer (trust this host key? the key's passphrase?), as promises.
 * A prompt is broadcast on `instances.prompt`, answered by `instances.answerPrompt`, and answered
 * "no" by itself after a timeout so a connection attempt never hangs on a closed window.
 */
import { randomUUID } from 'node:crypto'
import type { PromptEvent } from '../../../shared/api/instances'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'

export interface PromptAnswer {
  accept: boolean
  value?: string
  timedOut: boolean
}

export interface PromptBroker {
  ask(prompt: Omit<PromptEvent, 'promptId' | 'timeoutMs'>, signal?: AbortSignal): Promise<PromptAnswer>
  answer(promptId: string, accept: boolean, value?: string): void
  /** Prompts waiting now (for a window that opens late), each with the time it has left. */
  pending(): PromptEvent[]
  /** Milliseconds questions about this instance have waited for the user so far (timings subtract it). */
  waitedMs(instanceId: string): number
}

export function createPromptBroker(bus: EventBus, timeoutMs = 120_000): PromptBroker {
  const waited = new Map<string, number>()
  const waiting = new Map<string, { event: PromptEvent; deadline: number; settle(a: PromptAnswer): void }>()
  return {
    ask(prompt, signal) {
      const event: PromptEvent = { ...prompt, promptId: randomUUID(), timeoutMs }
      const asked = Date.now()
      return new Promise<PromptAnswer>((resolve) => {
        const timer = setTimeout(() => settle({ accept: false, timedOut: true }), timeoutMs)
        const onAbort = () => settle({ accept: false, timedOut: false })
        const settle = (answer: PromptAnswer) => {
          if (!waiting.delete(event.promptId)) return
          waited.set(event.instanceId, (waited.get(event.instanceId) ?? 0) + Date.now() - asked)
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          bus.emit('instances.promptClosed', { promptId: event.promptId })
          resolve(answer)
        }
        waiting.set(event.promptId, { event, deadline: Date.now() + timeoutMs, settle })
        signal?.addEventListener('abort', onAbort, { once: true })
        bus.emit('instances.prompt', event)
      })
    },
    answer(promptId, accept, value) {
      const entry = waiting.get(promptId)
      if (!entry) throw new RpcError('not_found', 'That question was already answered or has timed out. Start the action again.')
      entry.settle({ accept, value, timedOut: false })
    },
    waitedMs: (instanceId) => waited.get(instanceId) ?? 0,
    pending() {
      return [...waiting.values()].map((w) => ({ ...w.event, timeoutMs: Math.max(0, w.deadline - Date.now()) }))
    },
  }
}
