import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { TOKEN_COOKIE, type WebHost } from './server'
import { startTestWebHost, type WebHostRig } from '../../test/support/webHostRig'

let rig: WebHostRig
let host: WebHost

beforeAll(async () => {
  rig = await startTestWebHost('gantry-host-')
  host = rig.host
})
afterAll(() => rig.close())

function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: host.port, path: pathname, headers: { host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
  })
}

function openWs(headers: Record<string, string>): Promise<{ ws: WebSocket | null; status: number | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, { headers })
    ws.on('open', () => resolve({ ws, status: null }))
    ws.on('unexpected-response', (_req, res) => resolve({ ws: null, status: res.statusCode ?? 0 }))
    ws.on('error', () => resolve({ ws: null, status: -1 }))
  })
}

const goodHeaders = () => ({ origin: `http://127.0.0.1:${host.port}`, cookie: `${TOKEN_COOKIE}=${host.token}` })

describe('web host security', () => {
  it('binds 127.0.0.1 only', async () => {
    expect(host.url.startsWith('http://127.0.0.1:')).toBe(true)
    const v6 = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '::1', port: host.port }, () => (s.destroy(), resolve(true)))
      s.on('error', () => resolve(false))
    })
    expect(v6).toBe(false)
  })

  it('answers 401 without the token, and trades a URL token for an HttpOnly cookie', async () => {
    expect((await get('/')).status).toBe(401)
    expect((await get('/', { cookie: `${TOKEN_COOKIE}=wrong` })).status).toBe(401)
    const traded = await get(`/?token=${host.token}`)
    expect(traded.status).toBe(302)
    expect(String(traded.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/)
    const page = await get('/', { cookie: `${TOKEN_COOKIE}=${host.token}` })
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
  })

  it('refuses a foreign Host header (DNS rebinding) and path traversal', async () => {
    expect((await get('/', { host: 'evil.example:80', cookie: `${TOKEN_COOKIE}=${host.token}` })).status).toBe(421)
    expect((await get('/../package.json', { cookie: `${TOKEN_COOKIE}=${host.token}` })).status).toBe(404)
    expect((await get('/%2e%2e/%2e%2e/package.json', { cookie: `${TOKEN_COOKIE}=${host.token}` })).status).toBe(404)
  })

  it('closes the WebSocket without the token or with a wrong Origin', async () => {
    expect((await openWs({ origin: `http://127.0.0.1:${host.port}` })).status).toBe(401)
    expect((await openWs({ ...goodHeaders(), origin: 'http://evil.example' })).status).toBe(403)
    expect((await openWs({ cookie: `${TOKEN_COOKIE}=${host.token}` })).status).toBe(403)
  })

  it('serves RPC over an authorised WebSocket and answers malformed messages with an error', async () => {
    const { ws } = await openWs(goodHeaders())
    expect(ws).not.toBeNull()
    const replies: unknown[] = []
    const wait = (n: number) => new Promise<void>((resolve) => {
      ws!.on('message', (d) => {
        replies.push(JSON.parse(d.toString()))
        if (replies.length === n) resolve()
      })
    })
    const done = wait(3)
    ws!.send(JSON.stringify({ kind: 'req', id: 1, method: 'instances.list', input: {} }))
    ws!.send('{not json')
    ws!.send(JSON.stringify({ kind: 'req', id: 2, method: 'app.info', input: { extra: 1 } }))
    await done
    ws!.close()
    expect(replies).toContainEqual(expect.objectContaining({ id: 1, ok: true, output: [expect.objectContaining({ id: 'local', name: 'This computer' })] }))
    expect(replies).toContainEqual(expect.objectContaining({ id: -1, ok: false, error: expect.objectContaining({ code: 'invalid_input' }) }))
    expect(replies).toContainEqual(expect.objectContaining({ id: 2, ok: false, error: expect.objectContaining({ code: 'invalid_input' }) }))
  })
})
