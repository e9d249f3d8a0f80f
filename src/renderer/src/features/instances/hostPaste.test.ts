import { describe, expect, it } from 'vitest'
import { parseHostPaste } from './hostPaste'

describe('a pasted ssh destination fills host, user and port', () => {
  it('reads an ssh command', () => {
    expect(parseHostPaste('ssh -p 2222 root@203.0.113.7')).toEqual({ host: '203.0.113.7', user: 'root', port: '2222' })
    expect(parseHostPaste('  ssh -i ~/.ssh/gpu -p2200 -o StrictHostKeyChecking=no ubuntu@gpu-1.example.com nvidia-smi ')).toEqual({
      host: 'gpu-1.example.com',
      user: 'ubuntu',
      port: '2200',
      keyPath: '~/.ssh/gpu',
    })
    expect(parseHostPaste('ssh -l admin -A box.example.com')).toEqual({ host: 'box.example.com', user: 'admin' })
  })
  it('reads user@host:port, host:port, ssh:// and bracketed IPv6', () => {
    expect(parseHostPaste('root@host:2222')).toEqual({ host: 'host', user: 'root', port: '2222' })
    expect(parseHostPaste('gpu-1.example.com:2200')).toEqual({ host: 'gpu-1.example.com', port: '2200' })
    expect(parseHostPaste('ssh://ubuntu@203.0.113.7:22022')).toEqual({ host: '203.0.113.7', user: 'ubuntu', port: '22022' })
    expect(parseHostPaste('root@[2001:db8::1]:2222')).toEqual({ host: '2001:db8::1', user: 'root', port: '2222' })
  })
  it('leaves a plain host name (and anything it cannot read) alone', () => {
    expect(parseHostPaste('gpu-1.example.com')).toBeNull()
    expect(parseHostPaste('203.0.113.7')).toBeNull()
    expect(parseHostPaste('ssh')).toBeNull()
    expect(parseHostPaste('@host')).toBeNull()
    expect(parseHostPaste('not a host')).toBeNull()
  })
})
