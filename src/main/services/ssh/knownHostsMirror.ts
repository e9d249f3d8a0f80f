/**
 * The known_hosts file in the data folder: every pinned host key (hosts and jump hosts) in
 * OpenSSH's format, so the user's own `ssh` (and the ~/.ssh/config entry Gantry writes) trusts
 * exactly what Gantry trusts. Derived data: rewritten whole after every pin change.
 */
import path from 'node:path'
import type { InstanceStore } from '../instances/store'
import { writeKnownHosts } from './hostKeys'

export interface KnownHostsMirror {
  readonly file: string
  /** Rewrites the file from the pins in the instance store. */
  write(): Promise<void>
}

export function createKnownHostsMirror(dataDir: string, store: InstanceStore): KnownHostsMirror {
  const file = path.join(dataDir, 'known_hosts')
  return {
    file,
    write: () =>
      writeKnownHosts(
        file,
        store.all().flatMap((i) => [
          ...(i.hostKey ? [{ host: i.host, port: i.port, pin: i.hostKey }] : []),
          ...(i.jump && i.jumpHostKey ? [{ host: i.jump.host, port: i.jump.port, pin: i.jumpHostKey }] : []),
        ]),
      ),
  }
}
