/**
 * Host key identity: the SHA256 fingerprint users compare (same text as `ssh-keygen -lf`), the
 * key type, and a known_hosts mirror of every pin so the user's own `ssh` can reuse them.
 * Pins live with the instance (instances.json); this file only derives and formats.
 */
import { createHash } from 'node:crypto'
import type { PinnedHostKey } from '../../../shared/api/instances'
import { writeFileAtomic } from '../atomicFile'

/** The key type is the first SSH string of the blob, e.g. "ssh-ed25519". */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown'
  const len = blob.readUInt32BE(0)
  if (len > 64 || blob.length < 4 + len) return 'unknown'
  return blob.subarray(4, 4 + len).toString('latin1')
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

export function pinFor(blob: Buffer, now = Date.now()): PinnedHostKey {
  return { keyType: keyTypeOf(blob), fingerprint: fingerprintOf(blob), publicKey: blob.toString('base64'), pinnedAt: now }
}

/** OpenSSH's known_hosts host field: bare for port 22, else "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

export function knownHostsLine(host: string, port: number, pin: PinnedHostKey): string {
  return `${knownHostsName(host, port)} ${pin.keyType} ${pin.publicKey}`
}

/** Rewrites the whole mirror from the pins (it is derived data, never edited by hand). */
export async function writeKnownHosts(file: string, entries: Array<{ host: string; port: number; pin: PinnedHostKey }>): Promise<void> {
  const lines = ['# Written by Gantry from its pinned host keys; edits are overwritten.', ...entries.map((e) => knownHostsLine(e.host, e.port, e.pin))]
  await writeFileAtomic(file, `${lines.join('\n')}\n`, 0o600)
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
/** "3 May" — how the host-key-changed sentence names the day a key was trusted. */
export function dayLabel(ts: number): string {
  const d = new Date(ts)
  return `${d.getDate()} ${MONTHS[d.getMonth()]}`
}
