/**
 * THE API. Every method ({input, output} zod schemas) and every event topic, declared once.
 *
 * Each domain declares its part in `api/<domain>.ts` so the domains can grow independently;
 * this file is the only place they are joined, and every type the rest of the app uses
 * (ApiImpl, ApiClient, EventMap) is derived from the joined object.
 */
import type { z } from 'zod'
import * as app from './api/app'
import * as instances from './api/instances'
import * as models from './api/models'
import * as runs from './api/runs'
import * as setup from './api/setup'
import * as terminals from './api/terminals'

export const contract = {
  methods: {
    ...app.methods,
    ...instances.methods,
    ...models.methods,
    ...runs.methods,
    ...setup.methods,
    ...terminals.methods,
  },
  events: {
    ...app.events,
    ...instances.events,
    ...models.events,
    ...runs.events,
    ...setup.events,
    ...terminals.events,
  },
} as const

export type Contract = typeof contract
export type MethodName = keyof Contract['methods']
export type EventTopic = keyof Contract['events']

export const methodNames = Object.keys(contract.methods) as MethodName[]
export const eventTopics = Object.keys(contract.events) as EventTopic[]

type MethodsOf<C extends Contract> = C['methods']
type InOf<C extends Contract, M extends keyof MethodsOf<C>> = MethodsOf<C>[M] extends { input: z.ZodType }
  ? MethodsOf<C>[M]['input']
  : never
type OutOf<C extends Contract, M extends keyof MethodsOf<C>> = MethodsOf<C>[M] extends { output: z.ZodType }
  ? MethodsOf<C>[M]['output']
  : never

/** Who is calling: services use it for per-connection state and cancellation. */
export interface CallContext {
  connectionId: string
  transport: 'ipc' | 'ws'
  signal: AbortSignal
  /** Opaque handle of the caller for platform features that act on the calling window (drag). */
  sender?: unknown
}

/** What createServices() must return: one function per method, typed from the contract. */
export type ApiImpl<C extends Contract = Contract> = {
  [M in keyof MethodsOf<C>]: (input: z.output<InOf<C, M>>, ctx: CallContext) => Promise<z.input<OutOf<C, M>>>
}

/** What the renderer calls. */
export type ApiClient<C extends Contract = Contract> = {
  [M in keyof MethodsOf<C>]: (input: z.input<InOf<C, M>>) => Promise<z.output<OutOf<C, M>>>
}

export type EventMap<C extends Contract = Contract> = {
  [T in keyof C['events']]: C['events'][T] extends z.ZodType ? z.output<C['events'][T]> : never
}

export type MethodInput<M extends MethodName> = z.input<Contract['methods'][M]['input']>
export type MethodOutput<M extends MethodName> = z.output<Contract['methods'][M]['output']>

/** The slice of ApiImpl one domain implements, e.g. DomainImpl<typeof instancesApi.methods>. */
export type DomainImpl<Methods extends object> = Pick<ApiImpl, keyof Methods & MethodName>
