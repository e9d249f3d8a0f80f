/** In the launch dialog: the game backends this instance has, and a way out when the plan needs one it lacks. */
import { useEffect } from 'react'
import type { Plan } from '../../../../shared/remoteProtocol'
import { availableBackends, backendProblem, launchAtariBackend, withBackend, type Backend, type BackendProblem } from '../../lib/planBackends'
import { useStore } from '../../store'
import { NO_SETUP_PROGRESS } from '../../store/setupSlice'

/** The doctor's answer for this instance (asked once when the dialog opens without one). */
export function useBackendProblem(instanceId: string, plan: Plan | null): { available: Backend[] | null; checking: boolean; problem: BackendProblem | null } {
  const progress = useStore((s) => s.setupProgress[instanceId]) ?? NO_SETUP_PROGRESS
  const runDoctor = useStore((s) => s.runDoctor)
  const needsCheck = !progress.doctor && !progress.doctorRunning
  useEffect(() => {
    if (needsCheck) void runDoctor(instanceId)
  }, [needsCheck, runDoctor, instanceId])
  const available = progress.doctor ? availableBackends(progress.doctor) : null
  return { available, checking: progress.doctorRunning, problem: available && plan ? backendProblem(plan, available) : null }
}

export function BackendCheck({ available, checking, problem, plan, onChange }: { available: Backend[] | null; checking: boolean; problem: BackendProblem | null; plan: Plan | null; onChange(plan: Plan): void }) {
  if (!available) return <p className="muted">{checking ? 'Checking which game backends this instance has…' : 'Which game backends this instance has is not known yet.'}</p>
  return (
    <div className="backend-check" data-testid="backend-check">
      <p className="muted">
        This instance can train with: {available.join(', ')}.
        {plan?.games.some((g) => g.backend === undefined) && launchAtariBackend(available) && ` Atari games that name no backend will use ${launchAtariBackend(available)}.`}
      </p>
      {problem && plan && (
        <p className="form-error" role="alert">
          {problem.message}{' '}
          {problem.fix && problem.missing && (
            <button className="button button-small" onClick={() => onChange(withBackend(plan, problem.missing!, problem.fix!))}>
              Use {problem.fix} for them
            </button>
          )}
        </p>
      )}
    </div>
  )
}
