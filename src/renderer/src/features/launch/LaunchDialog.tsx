import { useEffect, useMemo, useState } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { Plan } from '../../../../shared/remoteProtocol'
import { api } from '../../api'
import { useStore } from '../../store'
import { reportError } from '../../store/errors'
import { BackendCheck, useBackendProblem } from './BackendCheck'
import { PlanEditor } from './PlanEditor'
import { useDialog } from '../../components/useDialog'
import './launch.css'

/** Choose a plan, adjust it (games, targets, slots, backend) or paste one as JSON, confirm. */
export function LaunchDialog({ instance, onClose, onLaunched }: { instance: InstanceSummary; onClose(): void; onLaunched(runId: string): void }) {
  const plans = useStore((s) => s.plans)
  const setPlans = useStore((s) => s.setPlans)
  const selectRun = useStore((s) => s.selectRun)
  const [planId, setPlanId] = useState<string | null>(null)
  const [draft, setDraft] = useState<Plan | null>(null)
  const [json, setJson] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [launchError, setLaunchError] = useState<string | null>(null)
  const ref = useDialog<HTMLDivElement>(onClose)

  useEffect(() => {
    if (!plans) api['runs.plans']({}).then(setPlans, reportError)
  }, [plans, setPlans])
  useEffect(() => {
    if (plans?.length && planId === null) {
      setPlanId(plans[0].id)
      setDraft(plans[0].plan)
    }
  }, [plans, planId])

  const parsedJson = useMemo(() => {
    if (json === null) return null
    try {
      const result = Plan.safeParse(JSON.parse(json))
      return result.success ? { plan: result.data, error: null } : { plan: null, error: result.error.issues.map((i) => `${i.path.join('.') || 'plan'}: ${i.message}`).join('; ') }
    } catch (error) {
      return { plan: null, error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` }
    }
  }, [json])
  const plan = json === null ? draft : (parsedJson?.plan ?? null)
  const problem = json !== null ? parsedJson?.error : plan && plan.games.length === 0 ? 'Pick at least one game.' : null
  const backends = useBackendProblem(instance.id, plan)

  const launch = async () => {
    if (!plan) return
    setBusy(true)
    setLaunchError(null)
    try {
      const { runId } = await api['runs.launch']({ instanceId: instance.id, plan })
      selectRun(instance.id, runId)
      onLaunched(runId)
    } catch (error) {
      // Shown in the dialog, where the user is looking (toasts sit under dialogs).
      setLaunchError(error instanceof Error ? error.message : String(error))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="dialog-backdrop" role="presentation" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} tabIndex={-1} className="dialog" role="dialog" aria-modal="true" aria-label="Launch Training">
        <h2>Launch Training on {instance.name}</h2>
        {!plans && <p className="muted">Loading plans…</p>}
        {plans && (
          <div className="plan-choice" role="radiogroup" aria-label="Plan">
            {plans.map((p) => (
              <label key={p.id} className={`plan-option${planId === p.id && json === null ? ' selected' : ''}`}>
                <input type="radio" name="plan" checked={planId === p.id && json === null} onChange={() => (setPlanId(p.id), setDraft(p.plan), setJson(null))} />
                <span>
                  <strong>{p.name}</strong>
                  <span className="muted">{p.description}</span>
                </span>
              </label>
            ))}
            <label className={`plan-option${json !== null ? ' selected' : ''}`}>
              <input type="radio" name="plan" checked={json !== null} onChange={() => setJson(JSON.stringify(draft ?? plans[0]?.plan ?? {}, null, 2))} />
              <span>
                <strong>Custom plan (JSON)</strong>
                <span className="muted">Paste or edit a plan file; see remote/PROTOCOL.md for the fields.</span>
              </span>
            </label>
          </div>
        )}
        {json === null && draft && <PlanEditor plan={draft} onChange={setDraft} />}
        {json !== null && <textarea className="plan-json" aria-label="Plan JSON" spellCheck={false} value={json} onChange={(e) => setJson(e.target.value)} rows={14} />}
        {problem && (
          <p className="form-error" role="alert">
            {problem}
          </p>
        )}
        <BackendCheck {...backends} plan={plan} onChange={(next) => (json === null ? setDraft(next) : setJson(JSON.stringify(next, null, 2)))} />
        {launchError && (
          <p className="form-error" role="alert">
            Could not start training: {launchError}
          </p>
        )}
        {plan && !problem && (
          <p className="muted">
            {plan.games.length} game(s), {plan.slots} at a time. The supervisor runs detached on the host: training continues if you close Gantry or lose the connection.
          </p>
        )}
        <div className="dialog-actions">
          <button className="button" onClick={onClose}>
            Cancel
          </button>
          <button className="button button-primary" disabled={!plan || !!problem || !!backends.problem || busy} onClick={() => void launch()}>
            {busy ? 'Starting…' : 'Start training'}
          </button>
        </div>
      </div>
    </div>
  )
}
