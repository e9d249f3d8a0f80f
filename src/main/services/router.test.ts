import { describe, expect, it } from 'vitest'
import type { ApiImpl, CallContext } from '../../shared/contract'
import { RpcError } from '../../shared/rpc'
import { createRouter } from './router'

const ctx: CallContext = { connectionId: 't', transport: 'ws', signal: new AbortController().signal }

function implWith(overrides: Partial<ApiImpl>): ApiImpl {
  const base = {
    'app.info': async () => ({ name: 'Gantry', version: '1', platform: 'linux', transport: 'ws' as const, dataDir: '/d', capabilities: { dragOut: false, chooseFolder: false }, secretStorage: { backend: 'memory', persistent: false, warning: null } }),
    'instances.list': async () => [],
  }
  return { ...(base as unknown as ApiImpl), ...overrides }
}

describe('router', () => {
  it('routes a valid call and returns the validated output', async () => {
    const res = await createRouter(implWith({})).call(1, 'app.info', {}, ctx)
    expect(res).toMatchObject({ kind: 'res', id: 1, ok: true, output: { name: 'Gantry' } })
  })

  it('rejects malformed input with a clear, field-naming error and never calls the service', async () => {
    let called = false
    const router = createRouter(implWith({ 'app.info': async () => ((called = true), undefined as never) }))
    const res = await router.call(2, 'app.info', { surprise: true }, ctx)
    expect(res.ok).toBe(false)
    if (!res.ok) {
      expect(res.error.code).toBe('invalid_input')
      expect(res.error.message).toContain('app.info')
      expect(res.error.message).toMatch(/surprise/)
    }
    expect(called).toBe(false)
  })

  it('rejects input of the wrong type (string instead of object)', async () => {
    const res = await createRouter(implWith({})).call(3, 'instances.list', 'DROP TABLE', ctx)
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('names an unknown method instead of crashing, including prototype keys', async () => {
    for (const method of ['nope.nothing', '__proto__', 'constructor', 'toString']) {
      const res = await createRouter(implWith({})).call(4, method, {}, ctx)
      expect(res).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    }
  })

  it('passes RpcError code and message through unchanged', async () => {
    const router = createRouter(implWith({ 'instances.list': async () => { throw new RpcError('unreachable', 'gpu-1 did not answer. Check the instance is running.') } }))
    const res = await router.call(5, 'instances.list', {}, ctx)
    expect(res).toMatchObject({ ok: false, error: { code: 'unreachable', message: 'gpu-1 did not answer. Check the instance is running.' } })
  })

  it('maps an unexpected exception to "internal" with a sentence and logs the stack', async () => {
    const lines: string[] = []
    const router = createRouter(implWith({ 'instances.list': async () => { throw new TypeError('x is undefined') } }), (l) => lines.push(l))
    const res = await router.call(6, 'instances.list', {}, ctx)
    expect(res).toMatchObject({ ok: false, error: { code: 'internal' } })
    if (!res.ok) expect(res.error.message).toMatch(/x is undefined.*Try again/)
    expect(lines.join('\n')).toContain('TypeError')
  })

  it('refuses a service output that breaks the contract', async () => {
    const router = createRouter(implWith({ 'instances.list': async () => [{ id: 'bad id with spaces' }] as never }))
    const res = await router.call(7, 'instances.list', {}, ctx)
    expect(res).toMatchObject({ ok: false, error: { code: 'internal' } })
  })
})
