/**
 * `gantry_remote after-run` on the host: run the instance's after-run command once for an ended
 * run (the command travels on stdin, exactly as the user wrote it; nothing from the host is ever
 * put into it), or read the host's record of it. The host's answer is untrusted and parsed.
 */
import { z } from 'zod'
import { runGantry } from '../host/gantryCli'
import type { HostSession } from '../host/hostSession'

const OUTPUT_CHARS = 4000

export const HostAfterRun = z.object({
  state: z.enum(['none', 'started', 'finished']),
  exit_code: z.number().int().nullable().optional(),
  timed_out: z.boolean().optional(),
  output: z
    .string()
    .optional()
    .transform((o) => (o === undefined ? null : o.slice(-OUTPUT_CHARS))),
  /** Another caller (another desktop, an earlier attempt) had already started it. */
  already: z.boolean().optional(),
})
export type HostAfterRun = z.output<typeof HostAfterRun>

/** How long the command may run on the host before it is killed (the CLI's --timeout). */
export const COMMAND_TIMEOUT_S = 600

export function runAfterRunCommand(session: HostSession, runId: string, command: string): Promise<HostAfterRun> {
  return runGantry(session, 'after-run', ['--run', runId, '--timeout', String(COMMAND_TIMEOUT_S)], HostAfterRun, {
    stdin: command,
    timeoutMs: (COMMAND_TIMEOUT_S + 60) * 1000,
  })
}

export function readAfterRunRecord(session: HostSession, runId: string): Promise<HostAfterRun> {
  return runGantry(session, 'after-run', ['--run', runId, '--status'], HostAfterRun)
}
