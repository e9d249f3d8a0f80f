/**
 * The buffered output of one command on a host, with a ceiling: a host (untrusted) that answers
 * with gigabytes cannot make the desktop hold them. Gantry's own answers are a few MB at most.
 */
import { RpcError } from '../../../shared/rpc'

export const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024 * 1024

export interface BoundedOutput {
  /** False once the output passed the ceiling (the command should be stopped). */
  push(chunk: Buffer): boolean
  text(): string
}

export function createBoundedOutput(limit = MAX_COMMAND_OUTPUT_BYTES): BoundedOutput {
  const chunks: Buffer[] = []
  let bytes = 0
  return {
    push(chunk) {
      bytes += chunk.length
      if (bytes > limit) return false
      chunks.push(chunk)
      return true
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  }
}

export function outputTooLarge(command: string, limit = MAX_COMMAND_OUTPUT_BYTES): RpcError {
  return new RpcError('remote_failed', `The host answered ${command} with more than ${Math.round(limit / 1024 / 1024)} MB, far more than Gantry ever writes, so it was stopped. The host may be misbehaving; check it over SSH.`)
}
