/**
 * A larger SSH receive window for an ssh2 SFTP channel, so pipelined reads are not held back by it.
 *
 * ssh2 (1.x) opens every channel with a fixed 2 MiB window and grants more only once half of it is
 * used, and has no option to change that. Over a 40 ms round trip that alone capped a download at
 * ~23 MB/s whatever the reads in flight (16, 32 or 64 × 128 KiB: the same), below OpenSSH's sftp
 * (~32 MB/s); with the window kept at 8 MiB, 32 × 128 KiB in flight moved 71-75 MB/s
 * (BENCHMARKS.md, issue #19). So this grants the credit itself, through ssh2's own protocol object,
 * and keeps ssh2's count of the window equal to the credit the host holds (ssh2 drops data beyond
 * its count, so the two must never differ).
 *
 * Memory stays bounded by the reads in flight, not by the window: an SFTP server only sends what
 * was asked for. If ssh2's internals are not what this expects, it changes nothing and returns
 * false (the transfer still works, at ssh2's own pace).
 */
import type { SFTPWrapper } from 'ssh2'

/** The parts of ssh2's SFTP channel object (lib/protocol/SFTP.js, lib/Channel.js) this relies on. */
interface Ssh2SftpChannel {
  incoming: { window: number }
  outgoing: { id: number; state: string }
  _protocol: { channelWindowAdjust(remoteId: number, amount: number): void }
  push(data: Buffer | null): unknown
}

const target = Symbol('gantry receive window')

function isSsh2SftpChannel(sftp: object): sftp is Ssh2SftpChannel & { [target]?: number } {
  const s = sftp as Partial<Ssh2SftpChannel>
  return (
    typeof s.incoming?.window === 'number' &&
    typeof s.outgoing?.id === 'number' &&
    typeof s.outgoing.state === 'string' &&
    typeof s._protocol?.channelWindowAdjust === 'function' &&
    typeof s.push === 'function'
  )
}

/**
 * Keeps the channel's receive window at about `bytes` (at least), topping it up whenever a quarter
 * of it (at most 1 MiB) has been used. Calling it again only ever raises the size.
 */
export function keepReceiveWindow(sftp: SFTPWrapper, bytes: number): boolean {
  if (!isSsh2SftpChannel(sftp)) return false
  const channel = sftp
  const already = channel[target]
  channel[target] = Math.max(already ?? 0, bytes)
  const grant = () => {
    const amount = channel[target]! - channel.incoming.window
    if (amount <= 0 || channel.outgoing.state !== 'open') return
    channel.incoming.window += amount
    channel._protocol.channelWindowAdjust(channel.outgoing.id, amount)
  }
  if (already === undefined) {
    // ssh2 calls push() for each data packet after taking its length off incoming.window.
    const push = channel.push.bind(channel)
    channel.push = (data: Buffer | null) => {
      const result = push(data)
      if (data !== null && channel[target]! - channel.incoming.window >= Math.min(1024 * 1024, channel[target]! / 4)) grant()
      return result
    }
  }
  grant()
  return true
}
