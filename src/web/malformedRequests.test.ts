/**
 * Any web page in the user's browser can reach the loopback web host, so a malformed request
 * (sent here byte for byte over a raw socket) must get a 400 and never end the process.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_COOKIE, type WebHost } from './server'
import { startTestWebHost, type WebHostRig } from '../../test/support/webHostRig'

let rig: WebHostRig
let host: WebHost

beforeAll(async () => {
  rig = await startTestWebHost('gantry-malformed-')
  host = rig.host
})
afterAll(() => rig.close())

/** Send raw request bytes; resolve with the status code of the answer ('closed' if none came). */
function raw(request: string): Promise<number | 'closed'> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: host.port }, () => socket.write(request))
    let answer = ''
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer)
      if (m) {
        socket.destroy()
        resolve(Number(m[1]))
      }
    })
    socket.on('close', () => resolve('closed'))
    socket.on('error', reject)
    socket.setTimeout(5000, () => reject(new Error(`no answer to ${JSON.stringify(request.split('\r\n')[0])}`)))
  })
}

const headers = (extra = '') => `Host: 127.0.0.1:${host.port}\r\n${extra}Connection: close\r\n\r\n`
const withToken = () => `Cookie: ${TOKEN_COOKIE}=${host.token}\r\n`
const upgrade = () => `Origin: http://127.0.0.1:${host.port}\r\n${withToken()}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`

describe('the web host and malformed requests', () => {
  it('answers 400 to request targets that do not parse as URLs, before any token check', async () => {
    expect(await raw(`GET //[ HTTP/1.1\r\n${headers()}`)).toBe(400)
    expect(await raw(`GET http://[ HTTP/1.1\r\n${headers()}`)).toBe(400)
  })

  it('answers 400 to a WebSocket upgrade whose target does not parse', async () => {
    expect(await raw(`GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n${upgrade()}\r\n`)).toBe(400)
  })

  it('answers 400 to a bad percent-encoding with the token', async () => {
    expect(await raw(`GET /%ZZ HTTP/1.1\r\n${headers(withToken())}`)).toBe(400)
    expect(await raw(`GET /%E0%A4%A HTTP/1.1\r\n${headers(withToken())}`)).toBe(400)
  })

  it('is still serving afterwards', async () => {
    expect(await raw(`GET / HTTP/1.1\r\n${headers(withToken())}`)).toBe(200)
  })
})
