import { useRef, useState } from 'react'
import type { ValidationReport } from '../../../../shared/api/models'
import { api } from '../../api'
import { reportError } from '../../store/errors'
import { ValidationReportCard } from './ValidationReportCard'
import { uploadFile } from './transfer'

interface Props {
  report: ValidationReport | null
  validating: string | null
  onReport(report: ValidationReport): void
  onValidating(file: string | null): void
}

/** Drop (or pick) an .onnx file, optionally with its .probe.json, to validate it locally. */
export function ValidationPanel({ report, validating, onReport, onValidating }: Props) {
  const [over, setOver] = useState(false)
  const picker = useRef<HTMLInputElement>(null)

  const validateFiles = async (files: File[]) => {
    const model = files.find((f) => f.name.toLowerCase().endsWith('.onnx')) ?? files.find((f) => !f.name.endsWith('.probe.json'))
    if (!model) return reportError(new Error('Drop an .onnx model file (and, if you have it, its .probe.json).'))
    const probe = files.find((f) => f.name.endsWith('.probe.json'))
    onValidating(model.name)
    try {
      const uploadId = await uploadFile(model)
      const probeUploadId = probe ? await uploadFile(probe) : undefined
      onReport(await api['models.validateUpload']({ uploadId, probeUploadId }))
    } catch (error) {
      reportError(error)
    } finally {
      onValidating(null)
    }
  }

  return (
    <section className="panel">
      <h2>Validate a model</h2>
      <div
        className={`drop-zone${over ? ' drop-over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault()
          setOver(true)
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault()
          setOver(false)
          void validateFiles(Array.from(e.dataTransfer.files))
        }}
      >
        <p>Drop an .onnx file here (with its .probe.json to check its outputs), or</p>
        {/* A real button (a label is skipped by Tab) that opens the hidden file input. */}
        <button className="button" onClick={() => picker.current?.click()}>
          Choose files…
        </button>
        <input ref={picker} type="file" accept=".onnx,.json" multiple hidden data-testid="validate-input" onChange={(e) => void validateFiles(Array.from(e.target.files ?? []))} />
      </div>
      {validating && (
        <p className="muted" role="status">
          Validating {validating} with ONNX Runtime…
        </p>
      )}
      {report && <ValidationReportCard report={report} />}
    </section>
  )
}
