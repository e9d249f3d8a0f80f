/**
 * The web host: serves the built renderer and a WebSocket RPC endpoint, on 127.0.0.1 only.
 *
 * A loopback server is reachable from any web page the user opens, so every request must prove
 * it comes from the page we served: the per-launch token (given once in the URL, then kept in
 * an HttpOnly SameSite=Strict cookie), a Host header naming this server, and for the WebSocket
 * an Origin equal to this server's own.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import { serveConnection } from '../main/services/connection'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import type { Services } from '../main/services/index'

export const TOKEN_COOKIE = 'gantry_token'
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
}


export interface WebHostOptions {
  services: Services
  /** Folder with the built renderer (index.html + assets). */
  staticDir: string
  port?: number
  token?: string
}

export interface WebHost {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

function tokensEqual(a: string | undefined, b: string): boolean {
  if (!a) return false
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === TOKEN_COOKIE) return rest.join('=')
  }
  return undefined
}

/** The request target's decoded path and query, or null when it does not parse (a 400). */
function parseTarget(target: string | undefined): { pathname: string; query: URLSearchParams } | null {
  try {
    const url = new URL(target ?? '/', 'http://127.0.0.1')
    return { pathname: decodeURIComponent(url.pathname), query: url.searchParams }
  } catch {
    return null
  }
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(24).toString('hex')
  const staticRoot = path.resolve(options.staticDir)
  let port = 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])

  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      res.end(body)
    }
    const target = parseTarget(req.url)
    if (!target) return send(400, 'Bad request: the address does not parse.')
    if (!allowedHosts().has(req.headers.host ?? '')) return send(421, 'Wrong Host header: open the URL Gantry printed.')
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method not allowed.')

    const queryToken = target.query.get('token') ?? undefined
    if (tokensEqual(queryToken, token)) {
      // Trade the URL token for a cookie, and drop it from the address bar.
      res.writeHead(302, {
        location: '/',
        'set-cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      })
      return res.end()
    }
    if (!tokensEqual(cookieToken(req.headers.cookie), token)) {
      return send(401, 'Gantry needs the access token: open the full URL printed by `npm run web` (it ends with ?token=…).')
    }

    const relative = target.pathname === '/' ? 'index.html' : target.pathname.slice(1)
    const file = path.resolve(staticRoot, relative)
    if (!file.startsWith(staticRoot + path.sep) || !existsSync(file) || !statSync(file).isFile()) return send(404, 'Not found.')
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    if (req.method === 'HEAD') return res.end()
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res)
  }

  // One request's failure answers that request and nothing else: the process never dies of it.
  const server = http.createServer((req, res) => {
    try {
      handleRequest(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad request.')
      else res.destroy()
    }
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    socket.on('error', () => socket.destroy())
    const target = parseTarget(req.url)
    if (!target) return refuse('400 Bad Request')
    if (target.pathname !== '/rpc') return refuse('404 Not Found')
    if (!allowedHosts().has(req.headers.host ?? '')) return refuse('421 Misdirected Request')
    if (!allowedOrigins().has(req.headers.origin ?? '')) return refuse('403 Forbidden')
    if (!tokensEqual(cookieToken(req.headers.cookie), token)) return refuse('401 Unauthorized')
    try {
      wss.handleUpgrade(req, socket, head, (ws) => attach(ws))
    } catch {
      refuse('400 Bad Request')
    }
  })

  function attach(ws: WebSocket) {
    const connection = serveConnection(options.services, {
      id: `ws-${randomUUID()}`,
      transport: 'ws',
      send: (envelope) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(envelope))
      },
    })
    ws.on('message', (data, isBinary) => {
      if (isBinary) return
      let raw: unknown
      try {
        raw = JSON.parse(data.toString())
      } catch {
        raw = null
      }
      try {
        connection.receive(raw)
      } catch (error) {
        options.services.bus.emit('app.notification', { level: 'error', title: 'A request from the window failed', body: error instanceof Error ? error.message : String(error) })
      }
    })
    ws.on('close', () => connection.close())
    ws.on('error', () => connection.close())
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const client of wss.clients) client.terminate()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
    },
  }
}
