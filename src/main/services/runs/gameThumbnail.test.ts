/**
 * runs.thumbnail through the assembled services and the real router against a real sshd: the
 * picture a real trainer wrote comes back byte-identical (over SFTP, and from the local file on
 * This computer); a missing one is `none`; an oversized, damaged, foreign or huge one is refused
 * with a sentence that says what is wrong.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { REPO_ROOT, requirePrerequisite } from '../../../../test/support/prerequisites'
import { createServicesRig } from '../../../../test/support/servicesRig'
import { createLocalSession } from '../local/localSession'
import { readGameThumbnail } from './gameThumbnail'

const VENV_PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python')
const TORCH_PYTHON = process.env.GANTRY_PYTHON ?? (existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3')
const haveTorch = () => requirePrerequisite(spawnSync(TORCH_PYTHON, ['-c', 'import torch']).status === 0, 'Python with torch', 'bash .ci/run (creates .venv with CPU torch)')
const RUN = '20260101-000000-thumb'

function python(code: string, ...args: string[]): void {
  const done = spawnSync(TORCH_PYTHON, ['-c', code, ...args], { cwd: path.join(REPO_ROOT, 'remote'), encoding: 'utf8', timeout: 60_000 })
  if (done.status !== 0) throw new Error(done.stdout + done.stderr)
}

describe.skipIf(!requireSshd() || !haveTorch())('runs.thumbnail (real sshd, real trainer)', () => {
  let sshd: SshdHandle
  let root: string
  const gameDir = (game: string) => path.join(root, 'runs', RUN, 'games', game)
  const put = (game: string, bytes: Buffer) => {
    mkdirSync(gameDir(game), { recursive: true })
    writeFileSync(path.join(gameDir(game), 'thumbnail.png'), bytes)
  }

  beforeAll(async () => {
    sshd = await startSshd()
    root = path.join(sshd.dir, 'gantry-root')
    // The real trainer, as the supervisor runs it, for a few rollouts of a built-in game.
    const trained = spawnSync(TORCH_PYTHON, ['-m', 'gantry_remote', 'train', '--run-dir', gameDir('breakout'), '--game', 'breakout', '--backend', 'builtin', '--device', 'cpu', '--num-envs', '4', '--num-steps', '16', '--minibatch-size', '32', '--update-epochs', '1', '--total-steps', '128', '--no-export', '--thumbnail-seconds', '0.001'], {
      cwd: path.join(REPO_ROOT, 'remote'),
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    })
    if (trained.status !== 0) throw new Error(`trainer failed: ${trained.stdout}${trained.stderr}`)
  }, 300_000)
  afterAll(async () => {
    await sshd?.stop()
  })

  it('returns the trainer\'s picture over SFTP and from the local file, none before one exists, and refuses what is not a small whole PNG', { timeout: 60_000 }, async () => {
    const written = readFileSync(path.join(gameDir('breakout'), 'thumbnail.png'))
    const rig = createServicesRig()
    try {
      rig.answerWith(() => ({ accept: true }))
      const { id } = await rig.api['instances.add']({ instance: { name: 'gpu-1', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: root } })
      const thumbnail = (game: string) => rig.api['runs.thumbnail']({ instanceId: id, runId: RUN, game })

      const shot = await thumbnail('breakout')
      expect(shot).toMatchObject({ status: 'ok', width: 80, height: 80 })
      expect(shot.status === 'ok' && Buffer.from(shot.png, 'base64').equals(written)).toBe(true)
      const local = createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: TORCH_PYTHON })
      const fromLocal = await readGameThumbnail(local, RUN, 'breakout')
      expect(fromLocal).toMatchObject({ status: 'ok', png: shot.status === 'ok' ? shot.png : '', width: 80, height: 80 })
      // SFTP carries whole seconds.
      expect(fromLocal.status === 'ok' && shot.status === 'ok' && Math.abs(fromLocal.writtenAt - shot.writtenAt)).toBeLessThan(1000)

      expect(await thumbnail('freeway')).toEqual({ status: 'none' })
      // On This computer a picture that is a link out of Gantry's folder is never followed.
      mkdirSync(gameDir('linked'), { recursive: true })
      symlinkSync(path.join(sshd.dir, 'sshd_config'), path.join(gameDir('linked'), 'thumbnail.png'))
      await expect(readGameThumbnail(local, RUN, 'linked')).rejects.toThrow(/Refused a path outside/)

      put('oversized', Buffer.concat([written, Buffer.alloc(70_000 - written.length)]))
      await expect(thumbnail('oversized')).rejects.toThrow(`The game picture of oversized (runs/${RUN}/games/oversized/thumbnail.png) is 70,000 bytes, over the 64 KiB a game picture may be, so Gantry does not show it.`)
      put('truncated', written.subarray(0, written.length - 20))
      await expect(thumbnail('truncated')).rejects.toThrow('is damaged (it does not end where a PNG ends)')
      const badHeader = Buffer.from(written)
      badHeader[17] ^= 0xff // the width, under the IHDR's CRC
      put('flipped', badHeader)
      await expect(thumbnail('flipped')).rejects.toThrow('is damaged (its PNG header does not check out)')
      put('gif', Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(200)]))
      await expect(thumbnail('gif')).rejects.toThrow(/is not a PNG picture, so Gantry does not show it\. .*something else is writing that file on the host\./)
      // A whole, small PNG (the trainer's own encoder) that would take 3.6 MB to show.
      mkdirSync(gameDir('huge'), { recursive: true })
      python('import sys, numpy as np; from gantry_remote.thumbnail import encode_png; open(sys.argv[1], "wb").write(encode_png(np.zeros((600, 2000), np.uint8)))', path.join(gameDir('huge'), 'thumbnail.png'))
      await expect(thumbnail('huge')).rejects.toThrow('is 2000×600 pixels, outside the 1–512 pixels a game picture may measure')
    } finally {
      await rig.dispose()
    }
  })
})
