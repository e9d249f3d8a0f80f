/**
 * The gantry_remote JSON CLI on one host: argv built from arrays (never a shell string), output
 * parsed with zod, CLI errors ({"error": {code, message}}) turned into RpcErrors a user can act on.
 */
import type { z } from 'zod'
import { RpcError } from '../../../shared/rpc'
import { CliError } from '../../../shared/remoteProtocol'
import type { HostSession, RunOptions } from './hostSession'

export function gantryArgv(session: HostSession, command: string, args: string[] = []): string[] {
  const base = session.gantryCommand()
  if (!base) {
    throw new RpcError('not_found', `Gantry is not set up on ${session.instanceId} yet. Open the Setup tab and run Set up, then try again.`)
  }
  return [...base, command, '--root', session.root, ...args]
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{'))
  if (!lines.length) return undefined
  try {
    return JSON.parse(lines[lines.length - 1])
  } catch {
    return undefined
  }
}

/** Run one CLI command and parse its JSON answer with `schema`. */
export async function runGantry<S extends z.ZodType>(session: HostSession, command: string, args: string[], schema: S, options: RunOptions = {}): Promise<z.output<S>> {
  const argv = gantryArgv(session, command, args)
  const result = await session.run(argv, { timeoutMs: 60_000, ...options })
  const json = lastJsonLine(result.stdout)
  const error = CliError.safeParse(json)
  if (error.success) throw new RpcError('remote_failed', error.data.error.message)
  const parsed = schema.safeParse(json)
  if (result.code === 0 && parsed.success) return parsed.data
  const detail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ').slice(0, 400)
  if (result.code === 0) {
    throw new RpcError('remote_failed', `The host answered \`${command}\` with something this app does not understand (${detail || 'no output'}). The Gantry code on the host may be out of date: run Set up again.`)
  }
  throw new RpcError('remote_failed', `\`gantry_remote ${command}\` failed on ${session.instanceId} (exit ${result.code ?? 'signal'}): ${detail || 'no output'}. Check the Setup tab; running Set up again usually fixes a broken install.`)
}
