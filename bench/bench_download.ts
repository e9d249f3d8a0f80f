/**
 * Model download speed: Gantry's SFTP engine (pipelined ranged reads → .part → sha256 → fsync →
 * atomic rename) against OpenSSH's own `sftp -b` batch `get` of the same file from the same
 * real sshd (test/rig/sshd.ts) on loopback, plus ssh2's sequential createReadStream for
 * reference. A second table repeats it through the test TCP relay with 20 ms added per
 * direction, where request pipelining matters. Best of N runs each.
 *
 *   node bench/run.mjs bench_download [--mb 256] [--runs 3] [--no-append]
 *   (or: npx esbuild bench/bench_download.ts --bundle --platform=node --packages=external --outfile=out/bench/bench_download.js && node out/bench/bench_download.js)
 */
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, appendFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Client, type SFTPWrapper } from 'ssh2'
import { downloadVerified } from '../src/main/services/models/downloader'
import { createSftpSource } from '../src/main/services/ssh/sftpSource'
import { startSshd, type SshdHandle } from '../test/rig/sshd'
import { startTcpProxy } from '../test/rig/tcpProxy'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const MB = 1024 * 1024
const SIZE_MB = arg('--mb', 256)
const RUNS = arg('--runs', 3)
const DELAY_MB = arg('--delay-mb', 16)
const CHUNK_KB = arg('--chunk-kb', 128)
const CONCURRENCY = arg('--concurrency', 32)
const ROOT = path.resolve(__dirname, '..', '..')

function sshVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('ssh2/package.json'), 'utf8')) as { version: string }).version
}

function writeRandom(file: string, bytes: number): string {
  const hash = createHash('sha256')
  const fd = openSync(file, 'w')
  for (let done = 0; done < bytes; done += 8 * MB) {
    const chunk = randomBytes(Math.min(8 * MB, bytes - done))
    writeSync(fd, chunk)
    hash.update(chunk)
  }
  closeSync(fd)
  return hash.digest('hex')
}

function connect(sshd: SshdHandle, port: number): Promise<{ client: Client; sftp: SFTPWrapper; cipher: string }> {
  const hostKey = Buffer.from(sshd.hostPublicKey.split(' ')[1], 'base64')
  return new Promise((resolve, reject) => {
    const client = new Client()
    let cipher = '?'
    client.once('handshake', (n) => (cipher = n.sc.cipher + (n.sc.mac ? ` + ${n.sc.mac}` : '')))
    client.once('error', reject)
    client.once('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp, cipher }))))
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey: readFileSync(sshd.clientKeyPath), hostVerifier: (k: Buffer) => k.equals(hostKey) })
  })
}

async function best(label: string, runs: number, once: () => Promise<void>): Promise<number> {
  let fastest = Infinity
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await once()
    const s = (performance.now() - t0) / 1000
    process.stderr.write(`${label}: ${s.toFixed(2)} s\n`)
    fastest = Math.min(fastest, s)
  }
  return fastest
}

async function measure(sshd: SshdHandle, port: number, remote: string, sha: string, bytes: number, dir: string, knownHosts: string, runs: number) {
  const { client, sftp, cipher } = await connect(sshd, port)
  const dest = path.join(dir, 'gantry.bin')
  const gantry = await best('gantry', runs, async () => {
    rmSync(dest, { force: true })
    await downloadVerified({ source: createSftpSource(sftp, { chunkSize: CHUNK_KB * 1024, concurrency: CONCURRENCY }), remotePath: remote, expectedSha256: sha, dest })
  })
  const sequential = await best('createReadStream', runs, async () => {
    await pipeline(sftp.createReadStream(remote), createWriteStream(path.join(dir, 'stream.bin')))
  })
  client.end()
  const batch = path.join(dir, 'batch')
  writeFileSync(batch, `get ${remote} ${path.join(dir, 'openssh.bin')}\n`)
  let opensshCipher = '?'
  const openssh = await best('openssh sftp', runs, async () => {
    // Async: the delaying relay lives in this process and must keep running meanwhile.
    const child = spawn('sftp', ['-q', '-b', batch, '-i', sshd.clientKeyPath, '-P', String(port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-v', 'root@127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if (code !== 0) throw new Error(`sftp failed: ${stderr}`)
    const m = /kex: server->client cipher: (\S+) MAC: (\S+)/.exec(stderr)
    if (m) opensshCipher = m[1] + (m[2] === '<implicit>' ? '' : ` + ${m[2]}`)
  })
  const mbps = (s: number) => bytes / MB / s
  return { gantry: mbps(gantry), openssh: mbps(openssh), sequential: mbps(sequential), cipher, opensshCipher }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-dl-'))
  const sshd = await startSshd()
  const proxy = await startTcpProxy({ targetPort: sshd.port })
  try {
    const knownHosts = path.join(dir, 'known_hosts')
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n[127.0.0.1]:${proxy.port} ${sshd.hostPublicKey}\n`)
    const big = path.join(dir, 'remote-big.bin')
    const bigSha = writeRandom(big, SIZE_MB * MB)
    const loop = await measure(sshd, sshd.port, big, bigSha, SIZE_MB * MB, dir, knownHosts, RUNS)
    rmSync(big)
    const small = path.join(dir, 'remote-small.bin')
    const smallSha = writeRandom(small, DELAY_MB * MB)
    proxy.delay(20)
    const delayed = await measure(sshd, proxy.port, small, smallSha, DELAY_MB * MB, dir, knownHosts, 1)

    const f = (x: number) => x.toFixed(0)
    const r = (x: number) => x.toFixed(2)
    const table = [
      '| link | file | Gantry (verified, MB/s) | OpenSSH sftp get (MB/s) | Gantry / OpenSSH | ssh2 createReadStream (MB/s) |',
      '|---|---|---|---|---|---|',
      `| loopback | ${SIZE_MB} MB | ${f(loop.gantry)} | ${f(loop.openssh)} | ${r(loop.gantry / loop.openssh)} | ${f(loop.sequential)} |`,
      `| loopback via relay, +20 ms each way | ${DELAY_MB} MB | ${r(delayed.gantry)} | ${r(delayed.openssh)} | ${r(delayed.gantry / delayed.openssh)} | ${r(delayed.sequential)} |`,
    ].join('\n')
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
    const machine = `${os.arch()}, ${os.cpus().length} CPU threads (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`
    const block = `\n### ${when} UTC — ${machine}\n\n\`node bench/run.mjs bench_download --mb ${SIZE_MB} --runs ${RUNS}\`\n\n${table}\n\nGantry = createSftpSource (${CONCURRENCY} reads × ${CHUNK_KB} KiB in flight) + downloadVerified (queued chunks go to disk in one writev per batch, sha256 on the main thread while the previous writev runs in the pool, fsync, rename, folder fsync). Ciphers negotiated: Gantry (ssh2 ${sshVersion()}) ${loop.cipher}, OpenSSH ${loop.opensshCipher}. OpenSSH = \`sftp -b\` batch \`get\` (its defaults: 64 requests × 32 KiB), no hashing. createReadStream = one outstanding 64 KiB read (ssh2's stream). Best of ${RUNS} on loopback, 1 run through the delayed relay.\n`
    console.log(block)
    if (!process.argv.includes('--no-append')) {
      const file = path.join(ROOT, 'BENCHMARKS.md')
      const section = '## Model downloads over SFTP (bench/bench_download.ts)'
      const text = readFileSync(file, 'utf8')
      appendFileSync(file, text.includes(section) ? block : `\n${section}\n\nSame file, same real sshd (test/rig/sshd.ts), same machine, one run of the bench; the ratio is what to compare across machines.\n${block}`)
    }
  } finally {
    await proxy.close()
    await sshd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
