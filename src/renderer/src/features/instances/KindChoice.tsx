/** The wizard's first question: what is being added (a GPU host over SSH, or a SLURM cluster through its login node). */
import type { AddedInstanceKind } from '../../../../shared/api/instances'

export const KIND_LABEL: Record<AddedInstanceKind, string> = { ssh: 'GPU host (SSH)', slurm: 'SLURM cluster' }

const KIND_TEXT: Record<AddedInstanceKind, string> = {
  ssh: 'One machine you reach over SSH (a rented GPU box, a lab workstation). Gantry runs its supervisor there.',
  slurm: "A cluster's login node you reach over SSH. Each game becomes a SLURM job; nothing stays running on the login node.",
}

export function KindChoice({ kind, onChange }: { kind: AddedInstanceKind; onChange(next: AddedInstanceKind): void }) {
  return (
    <div className="kind-choice" role="radiogroup" aria-label="Kind of instance">
      {(Object.keys(KIND_LABEL) as AddedInstanceKind[]).map((k) => (
        <label key={k} className={`kind-option${k === kind ? ' selected' : ''}`}>
          <input type="radio" name="instance-kind" data-testid={`instance-kind-${k}`} value={k} checked={k === kind} onChange={() => onChange(k)} />
          <span className="kind-option-label">{KIND_LABEL[k]}</span>
          <span className="muted">{KIND_TEXT[k]}</span>
        </label>
      ))}
    </div>
  )
}
