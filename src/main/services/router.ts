/**
 * "domain.method" → implementation. Every transport is untrusted input: the router parses the
 * input with the contract's schema before a service sees it, and turns every failure into an
 * RpcError body ({code, message}) a user can read.
 */
import { z } from 'zod'
import { contract, type ApiImpl, type CallContext, type Contract } from '../../shared/contract'
import { RpcError, type ResponseEnvelope, type RpcErrorBody } from '../../shared/rpc'

export interface Router {
  call(id: number, method: string, input: unknown, ctx: CallContext): Promise<ResponseEnvelope>
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ')
}

export function toErrorBody(error: unknown): RpcErrorBody {
  if (error instanceof RpcError) return { code: error.code, message: error.message }
  if (error instanceof Error && error.name === 'AbortError') {
    return { code: 'cancelled', message: 'The operation was cancelled.' }
  }
  const detail = error instanceof Error ? error.message : String(error)
  return { code: 'internal', message: `Something went wrong inside Gantry: ${detail}. Try again; if it keeps happening, restart the app.` }
}

export function createRouter(impl: ApiImpl<Contract>, log: (line: string) => void = () => {}): Router {
  const methods = contract.methods as Record<string, { input: z.ZodType; output: z.ZodType }>
  return {
    async call(id, method, input, ctx) {
      if (!Object.hasOwn(methods, method)) {
        return { kind: 'res', id, ok: false, error: { code: 'unknown_method', message: `Unknown method "${method}". The app and its backend may be out of date with each other; restart Gantry.` } }
      }
      const parsed = methods[method].input.safeParse(input ?? {})
      if (!parsed.success) {
        return { kind: 'res', id, ok: false, error: { code: 'invalid_input', message: `Invalid input for ${method}: ${describeIssues(parsed.error)}.` } }
      }
      try {
        const fn = (impl as unknown as Record<string, (i: unknown, c: CallContext) => Promise<unknown>>)[method]
        const output = await fn(parsed.data, ctx)
        return { kind: 'res', id, ok: true, output: methods[method].output.parse(output) }
      } catch (error) {
        const body = toErrorBody(error)
        if (body.code === 'internal') log(`[router] ${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
        return { kind: 'res', id, ok: false, error: body }
      }
    },
  }
}
