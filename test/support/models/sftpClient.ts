/** Test helper: an ssh2 SFTP session to the rig's sshd (or a proxy in front of it). */
import { readFileSync } from 'node:fs'
import { Client, type SFTPWrapper } from 'ssh2'

export interface SftpConnection {
  client: Client
  sftp: SFTPWrapper
  close(): void
}

export function connectSftp(options: { port: number; privateKeyPath: string; hostPublicKey: string }): Promise<SftpConnection> {
  const expectedKey = Buffer.from(options.hostPublicKey.split(/\s+/)[1], 'base64')
  return new Promise((resolve, reject) => {
    const client = new Client()
    client.on('error', reject)
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return reject(err)
        client.removeListener('error', reject)
        client.on('error', () => {}) // later faults surface through the SFTP calls
        resolve({ client, sftp, close: () => client.end() })
      })
    })
    client.connect({
      host: '127.0.0.1',
      port: options.port,
      username: 'root',
      privateKey: readFileSync(options.privateKeyPath),
      hostVerifier: (key: Buffer) => key.equals(expectedKey),
      readyTimeout: 10_000,
    })
  })
}
