/**
 * Setup output → terminal chunks and checklist rows. Output is batched (a few events a second,
 * not one per pip line); `GANTRY_STEP` / `GANTRY_RESULT` lines from setup.sh drive the checklist.
 */
import { z } from 'zod'
import type { SetupStep } from '../../../shared/api/setup'

export const SETUP_STEPS: Array<Pick<SetupStep, 'id' | 'label'>> = [
  { id: 'upload', label: "Upload Gantry's host code" },
  { id: 'python', label: 'Python' },
  { id: 'venv', label: 'Virtual environment' },
  { id: 'torch', label: 'PyTorch' },
  { id: 'packages', label: 'Python packages' },
  { id: 'atari', label: 'Atari backends' },
  { id: 'cuda', label: 'GPU (CUDA)' },
  { id: 'smoke_env', label: 'Environment smoke test' },
  { id: 'smoke_train', label: '200-step training run' },
]

export const SetupScriptResult = z.looseObject({ ok: z.boolean(), failed_step: z.string().optional(), backends: z.array(z.string()).optional() })
export type SetupScriptResult = z.infer<typeof SetupScriptResult>

const STATUSES = new Set(['running', 'ok', 'skip', 'warn', 'fail'])

export class SetupChecklist {
  readonly steps: SetupStep[] = SETUP_STEPS.map((s) => ({ ...s, status: 'pending', message: '' }))
  result: SetupScriptResult | null = null
  /** The last non-empty line of ordinary output (shown when the script dies without a verdict). */
  lastLine = ''
  private carry = ''

  set(id: string, status: SetupStep['status'], message: string): void {
    let step = this.steps.find((s) => s.id === id)
    if (!step) {
      step = { id, label: id, status: 'pending', message: '' }
      this.steps.push(step)
    }
    step.status = status
    step.message = message
  }

  running(): SetupStep | undefined {
    return this.steps.find((s) => s.status === 'running')
  }

  /** Feed raw stdout; returns true when a checklist row changed. */
  feed(text: string): boolean {
    const lines = (this.carry + text).split('\n')
    this.carry = lines.pop() ?? ''
    let changed = false
    for (const raw of lines) changed = this.line(raw.replace(/\r$/, '')) || changed
    return changed
  }

  flush(): boolean {
    const rest = this.carry
    this.carry = ''
    return rest ? this.line(rest) : false
  }

  private line(line: string): boolean {
    const step = /^GANTRY_STEP (\S+) (\S+) ?(.*)$/.exec(line)
    if (step && STATUSES.has(step[2])) {
      this.set(step[1], step[2] as SetupStep['status'], step[3])
      return true
    }
    if (line.startsWith('GANTRY_RESULT ')) {
      try {
        const parsed = SetupScriptResult.safeParse(JSON.parse(line.slice('GANTRY_RESULT '.length)))
        if (parsed.success) this.result = parsed.data
      } catch {
        // a garbled verdict is treated like a missing one
      }
      return false
    }
    if (line.trim()) this.lastLine = line.trim()
    return false
  }
}

/** Collects output and hands it on at most every `intervalMs` (or when it grows large). */
export function createOutputBatcher(deliver: (data: string) => void, intervalMs = 100, maxBytes = 32_768) {
  let buffer = ''
  let timer: NodeJS.Timeout | null = null
  const flush = () => {
    if (timer) clearTimeout(timer)
    timer = null
    if (!buffer) return
    const data = buffer
    buffer = ''
    deliver(data)
  }
  return {
    push(data: string) {
      buffer += data
      if (buffer.length >= maxBytes) flush()
      else if (!timer) timer = setTimeout(flush, intervalMs)
    },
    flush,
  }
}
