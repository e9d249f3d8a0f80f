/**
 * Adding a GPU host through the wizard, against a real OpenSSH sshd started by this spec: type the
 * details (the generated key's path), confirm the host-key fingerprint the dialog shows (it must
 * equal what ssh-keygen prints), and see the instance connected in the sidebar; then the doctor
 * runs on the host before anything is installed.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { sshdUnavailableReason, startSshd, type SshdHandle } from '../test/rig/sshd'
import { expect, requirePrerequisite, test } from './fixtures'

let sshd: SshdHandle | null = null

test.beforeAll(async () => {
  const reason = sshdUnavailableReason()
  if (!reason) sshd = await startSshd()
})
test.afterAll(async () => {
  await sshd?.stop()
})

test('add an SSH instance with the wizard, trust its host key, see it connected', async ({ page, app }) => {
  requirePrerequisite(sshd !== null, 'OpenSSH server', sshdUnavailableReason() ?? 'apt-get install openssh-server')
  const host = sshd!
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  await sidebar.getByRole('button', { name: '+ Add instance' }).click()
  const wizard = page.getByRole('dialog', { name: 'Add an instance' })

  // Inline validation before anything is sent.
  await wizard.getByTestId('instance-host').fill('bad host name')
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()
  await expect(wizard.getByText('Give the instance a name.')).toBeVisible()
  await expect(wizard.getByText(/A host is a name like gpu-1\.example\.com/)).toBeVisible()

  await wizard.getByTestId('instance-name').fill('gpu-test')
  await wizard.getByTestId('instance-host').fill(host.host)
  await wizard.getByTestId('instance-port').fill(String(host.port))
  await wizard.getByTestId('instance-user').fill(host.user)
  await wizard.getByTestId('instance-key-path').fill(host.clientKeyPath)
  await wizard.getByTestId('instance-gantry-root').fill(path.join(host.dir, 'gantry-root'))
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()

  const prompt = page.getByRole('dialog', { name: 'Trust this host key?' })
  await expect(prompt.getByTestId('host-key-fingerprint')).toHaveText(host.hostKeyFingerprint)
  await expect(prompt.getByText('ssh-ed25519', { exact: true })).toBeVisible()
  await app.screenshot('host-key-prompt')
  // Read the fingerprint for a while (the countdown shows 7 s have passed): that time is not connection time.
  const secondsLeft = async () => Number((await prompt.getByText(/Answer within \d+ s/).textContent())!.match(/\d+/)![0])
  const shownAtFirst = await secondsLeft()
  await expect.poll(secondsLeft, { timeout: 30_000 }).toBeLessThanOrEqual(shownAtFirst - 7)
  await prompt.getByRole('button', { name: 'Trust' }).click()

  await expect(wizard.getByTestId('connection-ok')).toContainText(host.hostKeyFingerprint)
  // The connection details name the cipher ssh2 negotiated with the real sshd (an AEAD one by default).
  await expect(wizard.getByTestId('connection-cipher')).toHaveText(/^(aes(128|256)-gcm@openssh\.com|chacha20-poly1305@openssh\.com)$/)
  const connectedMs = Number((await wizard.getByTestId('connection-ok').textContent())!.match(/Connected in (\d+) ms/)![1])
  expect(connectedMs).toBeLessThan(7000)
  const item = sidebar.locator('[data-instance-id="gpu-test"]')
  await expect(item).toHaveAttribute('data-connection', 'connected')
  await expect(item).toContainText(`root@127.0.0.1:${host.port}`)

  // The pin is on disk (instances.json + known_hosts mirror); nothing secret is.
  const saved = JSON.parse(readFileSync(path.join(app.dataDir, 'instances.json'), 'utf8'))
  expect(saved.instances[0].hostKey.fingerprint).toBe(host.hostKeyFingerprint)
  expect(readFileSync(path.join(app.dataDir, 'known_hosts'), 'utf8')).toContain(host.hostPublicKey)

  await wizard.getByRole('button', { name: 'Check the host' }).click()
  await expect(wizard.getByTestId('doctor-report')).toContainText('Linux', { timeout: 60_000 })
  const shot = await app.screenshot('wizard-doctor')
  expect(existsSync(shot)).toBe(true)
  await wizard.getByRole('button', { name: 'Next' }).click()
  await wizard.getByRole('button', { name: 'Next' }).click()
  await expect(wizard.getByRole('button', { name: 'Set up now' })).toBeVisible()
  await wizard.getByRole('button', { name: 'Close (set up later)' }).click()

  await expect(page.getByRole('heading', { level: 1, name: 'gpu-test' })).toBeVisible()
  await expect(page.getByTestId('connection-state')).toHaveText('connected')
  await expect(page.getByRole('button', { name: 'Set up now', exact: true })).toBeVisible()
  await app.screenshot('connected')
})

test('a window opened while a host-key question waits still shows it, and answering it connects', async ({ page, app }) => {
  requirePrerequisite(sshd !== null, 'OpenSSH server', sshdUnavailableReason() ?? 'apt-get install openssh-server')
  // A second window on one backend is a second browser tab of the web host (the desktop app has one window).
  test.skip(app.target !== 'web', 'a second window of the same backend is a browser tab of the web host')
  const host = sshd!
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  await sidebar.getByRole('button', { name: '+ Add instance' }).click()
  const wizard = page.getByRole('dialog', { name: 'Add an instance' })
  await wizard.getByTestId('instance-name').fill('late-window')
  await wizard.getByTestId('instance-host').fill(host.host)
  await wizard.getByTestId('instance-port').fill(String(host.port))
  await wizard.getByTestId('instance-user').fill(host.user)
  await wizard.getByTestId('instance-key-path').fill(host.clientKeyPath)
  await wizard.getByTestId('instance-gantry-root').fill(path.join(host.dir, 'gantry-root-late'))
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()
  await expect(page.getByRole('dialog', { name: 'Trust this host key?' })).toBeVisible()

  // Let the countdown move below its start first, so a countdown that restarted (at 120 s) would show.
  await expect(page.getByText(/Answer within (?:1[01]\d|\d{1,2}) s/)).toBeVisible()
  // A window opened now never saw the question's event (the first one stays open: its call is the one waiting).
  const late = await page.context().newPage()
  await late.goto(page.url())
  const prompt = late.getByRole('dialog', { name: 'Trust this host key?' })
  await expect(prompt.getByTestId('host-key-fingerprint')).toHaveText(host.hostKeyFingerprint)
  // The countdown continues where it was, it does not start again.
  const left = Number((await prompt.getByText(/Answer within \d+ s/).textContent())!.match(/\d+/)![0])
  expect(left).toBeLessThan(120)
  await prompt.getByRole('button', { name: 'Trust' }).click()
  await expect(late.getByRole('navigation', { name: 'Instances' }).locator('[data-instance-id="late-window"]')).toHaveAttribute('data-connection', 'connected')
  // Answered in one window, the question closes in the other.
  await expect(page.getByRole('dialog', { name: 'Trust this host key?' })).toBeHidden()
  await expect(sidebar.locator('[data-instance-id="late-window"]')).toHaveAttribute('data-connection', 'connected')
})
