/** Supervisor commands through the CLI: start (with the plan uploaded to the host), resume, stop, pause, resume, set-slots, list. */
import { randomBytes } from 'node:crypto'
import type { RunSummary } from '../../../shared/api/runs'
import { RpcError } from '../../../shared/rpc'
import { ControlResult, RunsResult, StartResult, StopResult, type Plan } from '../../../shared/remoteProtocol'
import { runGantry } from '../host/gantryCli'
import type { HostSession } from '../host/hostSession'

export async function listRuns(session: HostSession): Promise<RunSummary[]> {
  const { runs } = await runGantry(session, 'runs', ['--json'], RunsResult)
  return runs.map((r) => ({ runId: r.run_id, planName: r.plan_name, state: r.state, startedTs: r.started_ts, supervisorAlive: r.supervisor_alive }))
}

/** Write the plan to `<root>/plans/` on the host (stdin → file, paths passed as argv, never spliced into the script). */
async function uploadPlan(session: HostSession, plan: Plan): Promise<string> {
  const dir = `${session.root}/plans`
  const file = `${dir}/plan-${Date.now()}-${randomBytes(3).toString('hex')}.json`
  const script = 'umask 077 && mkdir -p "$1" && cat > "$2.tmp" && mv "$2.tmp" "$2"'
  const result = await session.run(['sh', '-c', script, 'sh', dir, file], { stdin: `${JSON.stringify(plan, null, 2)}\n`, timeoutMs: 30_000 })
  if (result.code !== 0) {
    throw new RpcError('remote_failed', `Could not write the plan to ${file} on ${session.instanceId}: ${result.stderr.trim() || `exit ${result.code}`}. Check that the disk is not full.`)
  }
  return file
}

export async function startRun(session: HostSession, plan: Plan): Promise<string> {
  const file = await uploadPlan(session, plan)
  const started = await runGantry(session, 'start', ['--plan', file], StartResult)
  return started.run_id
}

/** Start a stopped or failed run again as it was planned (`start --run-id`); the host refuses a live or completed one. */
export async function resumeRun(session: HostSession, runId: string): Promise<void> {
  await runGantry(session, 'start', ['--run-id', runId], StartResult)
}

export async function stopRun(session: HostSession, runId: string): Promise<string> {
  return (await runGantry(session, 'stop', ['--run', runId], StopResult)).state
}

export async function controlRun(session: HostSession, runId: string, request: { action: 'pause' | 'resume'; game: string } | { action: 'set-slots'; slots: number }): Promise<string | null> {
  const args = request.action === 'set-slots' ? ['--run', runId, String(request.slots)] : ['--run', runId, '--game', request.game]
  const result = await runGantry(session, request.action, args, ControlResult)
  return result.note ?? null
}
