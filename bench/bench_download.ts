/**
 * Model download speed: Gantry's download as the app runs it (a download process, started with
 * its V8 flags, over its own connection made by connect.ts: pipelined SFTP reads → .part → sha256
 * → fsync → atomic rename) against OpenSSH's own `sftp -f -b` batch `get` of the same file from
 * the same real sshd (test/rig/sshd.ts) on loopback; for reference, the same engine inside this
 * process (how downloads ran before the download process) and ssh2's sequential createReadStream.
 * A second row repeats it through the test TCP relay with 20 ms added per direction, where
 * request pipelining and the SSH channel window matter. That row uses a 64 MB file (--delay-mb):
 * through a relay that passes data at line rate, 16 MB moved in well under a second and each tool's
 * fixed round trips per file (OpenSSH's sftp about 11: 0.95 s for 16 MB, 2.0 s for 64 MB) weighed as
 * much as the transfer; 64 MB shows the steady rate too. The relay's
 * own capacity (raw TCP through it, +20 ms) is measured and printed with the table, so a rig that
 * caps the tools shows.
 *
 * Fair to both: the same file from the page cache, written into the same folder; both fsync the
 * result (`sftp -f`; Gantry also renames and fsyncs the folder); both use an SSH connection made
 * before the clock starts (Gantry's download process is started and connected by a warm-up
 * download of a small file, `sftp` uses an OpenSSH ControlMaster connection, so neither pays a
 * process start, key exchange and login inside the timing); each run's output file is deleted
 * before its clock starts; Gantry and OpenSSH runs alternate, so a burst of load on this shared
 * machine hits both; best of N each. The delaying relay runs in a child process, so it does not
 * share Gantry's event loop (OpenSSH's sftp and ssh are processes of their own too). The load
 * average is printed with the table.
 *
 *   node bench/run.mjs bench_download [--mb 256] [--runs 3] [--delay-mb 64] [--delay-runs 2] [--no-append]
 *   (or: npx esbuild bench/bench_download.ts --bundle --platform=node --packages=external --outfile=out/bench/bench_download.js && node out/bench/bench_download.js)
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { buildSync } from 'esbuild'
import { createWriteStream, mkdtempSync, readFileSync, appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { SFTPWrapper } from 'ssh2'
import { downloadVerified } from '../src/main/services/models/downloader'
import { createDownloadProcesses, DOWNLOAD_PROCESS_V8_FLAGS } from '../src/main/services/models/downloadProcesses'
import type { DownloadConnection } from '../src/main/services/models/downloadProtocol'
import { connectInstance, type ConnectDeps, type HopTarget } from '../src/main/services/ssh/connect'
import { pinFor } from '../src/main/services/ssh/hostKeys'
import { createSftpSource } from '../src/main/services/ssh/sftpSource'
import { startSshd, type SshdHandle } from '../test/rig/sshd'
import { writeRandomFile } from '../test/rig/randomFile'
import { startTcpProxy } from '../test/rig/tcpProxy'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const MB = 1024 * 1024
const SIZE_MB = arg('--mb', 256)
const RUNS = arg('--runs', 3)
const DELAY_MB = arg('--delay-mb', 64)
const DELAY_RUNS = arg('--delay-runs', 2)
const CHUNK_KB = arg('--chunk-kb', 128)
const CONCURRENCY = arg('--concurrency', 32)
const ROOT = path.resolve(__dirname, '..', '..')

function sshVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('ssh2/package.json'), 'utf8')) as { version: string }).version
}

/** The instance as the app would hold it: key login, host key pinned. */
function connectionTo(sshd: SshdHandle, port: number): DownloadConnection {
  const pin = pinFor(Buffer.from(sshd.hostPublicKey.split(' ')[1], 'base64'))
  return { host: { role: 'host', label: 'bench sshd', host: '127.0.0.1', port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath, hasPassphrase: false }, pin, secrets: { passphrase: null, password: null } }, jump: null, agentSocket: null }
}

/** A connection made in this process by the app's own connect code (for the in-process reference). */
async function connectHere(spec: DownloadConnection): Promise<{ sftp: SFTPWrapper; cipher: string; close(): void }> {
  const { secrets: _secrets, ...target } = spec.host
  const deps: ConnectDeps = {
    instanceId: 'bench',
    prompts: { ask: () => Promise.reject(new Error('the bench answers no questions')), answer: () => {}, pending: () => [], waitedMs: () => 0 },
    secret: async () => null,
    rememberSecret: () => {},
    forgetSecret: () => {},
    savePin: () => Promise.reject(new Error('the bench pins nothing')),
    agentSocket: undefined,
  }
  const conn = await connectInstance(target as HopTarget, null, deps)
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => conn.client.sftp((err, s) => (err ? reject(err) : resolve(s))))
  return { sftp, cipher: conn.cipher, close: () => conn.close() }
}

/**
 * An OpenSSH master connection (`ssh -M -N`) that `sftp` runs reuse through its control socket;
 * stop() ends it and returns the cipher it negotiated.
 */
async function startOpensshMaster(sshd: SshdHandle, port: number, knownHosts: string, controlPath: string): Promise<{ options: string[]; stop(): string }> {
  const options = ['-i', sshd.clientKeyPath, '-P', String(port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', `ControlPath=${controlPath}`, '-o', 'ControlMaster=no']
  const child = spawn('ssh', ['-M', '-N', '-v', '-S', controlPath, '-p', String(port), '-i', sshd.clientKeyPath, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  for (let i = 0; spawnSync('ssh', ['-S', controlPath, '-O', 'check', 'root@127.0.0.1'], { stdio: 'ignore' }).status !== 0; i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`the OpenSSH master connection did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    options,
    stop() {
      spawnSync('ssh', ['-S', controlPath, '-O', 'exit', 'root@127.0.0.1'], { stdio: 'ignore' })
      child.kill()
      const m = /kex: server->client cipher: (\S+) MAC: (\S+)/.exec(stderr)
      return m ? m[1] + (m[2] === '<implicit>' ? '' : ` + ${m[2]}`) : '?'
    },
  }
}

/** Runs each tool's download in turn, N rounds, timing only the download itself; best time each. */
async function alternate(runs: number, tools: Array<{ label: string; prepare(): void; once(): Promise<void> }>): Promise<number[]> {
  const fastest = tools.map(() => Infinity)
  for (let i = 0; i < runs; i++) {
    for (const [k, tool] of tools.entries()) {
      tool.prepare()
      const t0 = performance.now()
      await tool.once()
      const s = (performance.now() - t0) / 1000
      process.stderr.write(`${tool.label}: ${s.toFixed(2)} s (load ${os.loadavg()[0].toFixed(1)})\n`)
      fastest[k] = Math.min(fastest[k], s)
    }
  }
  return fastest
}

async function measure(sshd: SshdHandle, port: number, remote: string, sha: string, bytes: number, dir: string, knownHosts: string, runs: number, childModule: string) {
  const spec = connectionTo(sshd, port)
  const processes = createDownloadProcesses({ modulePath: childModule })
  const here = await connectHere(spec)
  const source = createSftpSource(here.sftp, { chunkSize: CHUNK_KB * 1024, concurrency: CONCURRENCY })
  const dest = path.join(dir, 'gantry.bin')
  const hereDest = path.join(dir, 'gantry-here.bin')
  const opensshDest = path.join(dir, 'openssh.bin')
  const batch = path.join(dir, 'batch')
  writeFileSync(batch, `get ${remote} ${opensshDest}\n`)
  const download = (name: string, remotePath: string, expectedSha256: string) =>
    processes.download({ instanceId: 'bench', connection: spec, remotePath, expectedSha256, root: dir, segments: [name] })
  // Warm-up: starts the download process and makes its connection before any clock runs.
  const warm = path.join(dir, 'warm-up.bin')
  await download('warm-up-copy.bin', warm, writeRandomFile(warm, MB))
  const master = await startOpensshMaster(sshd, port, knownHosts, path.join(dir, `ctl-${port}`))
  const [gantry, openssh, inProcess] = await alternate(runs, [
    {
      label: 'gantry (download process)',
      prepare: () => rmSync(dest, { force: true }),
      once: async () => {
        await download('gantry.bin', remote, sha)
      },
    },
    {
      label: 'openssh sftp -f',
      prepare: () => rmSync(opensshDest, { force: true }),
      once: async () => {
        // Async: the delaying relay lives in this process and must keep running meanwhile.
        const child = spawn('sftp', ['-f', '-q', '-b', batch, ...master.options, 'root@127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] })
        let stderr = ''
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
        if (code !== 0) throw new Error(`sftp failed: ${stderr}`)
      },
    },
    {
      label: 'gantry in this process',
      prepare: () => rmSync(hereDest, { force: true }),
      once: async () => {
        await downloadVerified({ source, remotePath: remote, expectedSha256: sha, dest: hereDest })
      },
    },
  ])
  processes.dispose()
  // ssh2's own stream is slow (one 64 KiB read at a time): one run, for reference only.
  const streamDest = path.join(dir, 'stream.bin')
  const [sequential] = await alternate(1, [{ label: 'createReadStream', prepare: () => rmSync(streamDest, { force: true }), once: () => pipeline(here.sftp.createReadStream(remote), createWriteStream(streamDest)) }])
  here.close()
  const opensshCipher = master.stop()
  const mbps = (s: number) => bytes / MB / s
  return { gantry: mbps(gantry), openssh: mbps(openssh), inProcess: mbps(inProcess), sequential: mbps(sequential), cipher: here.cipher, opensshCipher }
}

/** The relay with 20 ms per direction, in a child process (this file run with --relay-child PORT). */
async function relayChild(): Promise<void> {
  const proxy = await startTcpProxy({ targetPort: Number(process.argv[process.argv.indexOf('--relay-child') + 1]) })
  proxy.delay(20)
  process.send!({ port: proxy.port })
  process.once('disconnect', () => void proxy.close())
}

/** MB/s of one raw TCP stream of `bytes` through a +20 ms relay process to a sink in this process. */
async function relayCapacity(bytes: number): Promise<number> {
  let got = 0
  let finish!: () => void
  const done = new Promise<void>((r) => (finish = r))
  const sink = net.createServer((s) => s.on('data', (d: Buffer) => (got += d.length) >= bytes && finish()))
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()))
  const relay = await startRelay((sink.address() as net.AddressInfo).port)
  const socket = net.connect(relay.port, '127.0.0.1')
  await new Promise((r) => socket.once('connect', r))
  const t0 = performance.now()
  const block = randomBytes(MB)
  for (let sent = 0; sent < bytes; sent += MB) if (!socket.write(block)) await new Promise((r) => socket.once('drain', r))
  await done
  const mbps = bytes / MB / ((performance.now() - t0) / 1000)
  socket.destroy()
  sink.close()
  relay.child.removeAllListeners('exit')
  relay.child.disconnect()
  return mbps
}

function startRelay(targetPort: number): Promise<{ port: number; child: ChildProcess }> {
  const child = fork(__filename, ['--relay-child', String(targetPort)], { stdio: 'inherit' })
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ port: m.port, child }))
    child.once('exit', (code) => reject(new Error(`the relay process exited (${code})`)))
  })
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-dl-'))
  // The download process, bundled as `npm run build:web` bundles it, beside this bench's bundle.
  const childModule = path.join(__dirname, 'downloadChild.js')
  buildSync({ entryPoints: [path.join(ROOT, 'src', 'main', 'services', 'ssh', 'downloadChild.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', outfile: childModule, logLevel: 'warning' })
  const sshd = await startSshd()
  const relay = await startRelay(sshd.port)
  try {
    const knownHosts = path.join(dir, 'known_hosts')
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n[127.0.0.1]:${relay.port} ${sshd.hostPublicKey}\n`)
    const big = path.join(dir, 'remote-big.bin')
    const bigSha = writeRandomFile(big, SIZE_MB * MB)
    const loadBefore = os.loadavg()[0]
    const loop = await measure(sshd, sshd.port, big, bigSha, SIZE_MB * MB, dir, knownHosts, RUNS, childModule)
    rmSync(big)
    const small = path.join(dir, 'remote-small.bin')
    const smallSha = writeRandomFile(small, DELAY_MB * MB)
    const delayed = await measure(sshd, relay.port, small, smallSha, DELAY_MB * MB, dir, knownHosts, DELAY_RUNS, childModule)
    const capacity = await relayCapacity(256 * MB)
    const loadAfter = os.loadavg()[0]

    const f = (x: number) => x.toFixed(0)
    const r = (x: number) => x.toFixed(2)
    const table = [
      '| link | file | Gantry (download process, verified, MB/s) | OpenSSH sftp -f get (MB/s) | Gantry / OpenSSH | same engine in the main process (MB/s) | ssh2 createReadStream (MB/s) |',
      '|---|---|---|---|---|---|---|',
      `| loopback | ${SIZE_MB} MB | ${f(loop.gantry)} | ${f(loop.openssh)} | ${r(loop.gantry / loop.openssh)} | ${f(loop.inProcess)} | ${f(loop.sequential)} |`,
      `| loopback via relay, +20 ms each way | ${DELAY_MB} MB | ${r(delayed.gantry)} | ${r(delayed.openssh)} | ${r(delayed.gantry / delayed.openssh)} | ${r(delayed.inProcess)} | ${r(delayed.sequential)} |`,
    ].join('\n')
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
    const machine = `${os.arch()}, ${os.cpus().length} CPU threads (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`
    const block = `\n### ${when} UTC — ${machine}, load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}\n\n\`node bench/run.mjs bench_download --mb ${SIZE_MB} --runs ${RUNS} --delay-mb ${DELAY_MB} --delay-runs ${DELAY_RUNS}\`\n\n${table}\n\nGantry = the app's download process (node ${DOWNLOAD_PROCESS_V8_FLAGS.join(' ')}, its own connection by connect.ts) running createSftpSource (32 reads × 128 KiB in flight) + downloadVerified (queued chunks go to disk in one writev per batch, sha256 while the previous writev runs in the pool, fsync, rename, folder fsync); the main-process column runs the same engine in the bench's own process (${CONCURRENCY} × ${CHUNK_KB} KiB) over a connection made by the same connect.ts. Ciphers negotiated: Gantry (ssh2 ${sshVersion()}) ${loop.cipher}, OpenSSH ${loop.opensshCipher}. OpenSSH = \`sftp -f -b\` batch \`get\` over a ControlMaster connection opened beforehand (its defaults with this sshd: 64 requests × 255 KiB, the read length the server's limits@openssh.com gives; a 2 MiB channel window; -f fsyncs the file), no hashing. Gantry, OpenSSH and the main-process runs alternate; best of ${RUNS} on loopback, best of ${DELAY_RUNS} through the delayed relay. createReadStream = one outstanding 64 KiB read (ssh2's stream), one run. The relay itself (test/rig/tcpProxy.ts, its own process) moved one raw TCP stream of 256 MB at ${capacity.toFixed(0)} MB/s with +20 ms.\n`
    console.log(block)
    if (!process.argv.includes('--no-append')) {
      const file = path.join(ROOT, 'BENCHMARKS.md')
      const section = '## Model downloads over SFTP (bench/bench_download.ts)'
      const text = readFileSync(file, 'utf8')
      appendFileSync(file, text.includes(section) ? block : `\n${section}\n\nSame file, same real sshd (test/rig/sshd.ts), same machine, one run of the bench; the ratio is what to compare across machines.\n${block}`)
    }
  } finally {
    relay.child.removeAllListeners('exit')
    relay.child.disconnect()
    await sshd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--relay-child')) void relayChild()
else
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
