/** The in-app "How it works" page: the same picture as the README, for users. */
import { useDialog } from '../../components/useDialog'

export function HowItWorks({ onClose }: { onClose(): void }) {
  const ref = useDialog<HTMLDivElement>(onClose)
  return (
    <div ref={ref} tabIndex={-1} className="overlay" role="dialog" aria-modal="true" aria-labelledby="how-it-works-title" onClick={onClose}>
      <article className="panel how-it-works" onClick={(e) => e.stopPropagation()}>
        <header className="page-header">
          <h1 id="how-it-works-title">How it works</h1>
          <button className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <pre className="diagram" aria-label="Architecture diagram">{`  Gantry (this app)                         GPU host  (or "This computer")
 ┌──────────────────────┐      SSH       ┌─────────────────────────────────────────┐
 │ dashboard, terminals │ ─────────────► │ gantry_remote CLI  (JSON in / JSON out) │
 │ models, backups      │  commands,     │   supervisor  (detached, survives you)  │
 │                      │  log tails,    │     ├─ trainer: MsPacman   (PPO)        │
 │                      │  SFTP ◄─────── │     ├─ trainer: Breakout   (PPO)  …     │
 └──────────────────────┘  event journal └─────────────────────────────────────────┘`}</pre>
        <ol className="how-steps">
          <li>
            <strong>Set up</strong> uploads Gantry's small Python package to the host, creates a virtual environment and installs PyTorch and the game
            backends, then runs a smoke test. Running it again on a ready host takes seconds.
          </li>
          <li>
            <strong>Launch Training</strong> starts a <em>supervisor</em> on the host, detached from your SSH session. It runs each game's trainer in its
            own process, longest games first, restarts crashed or frozen trainers from their last checkpoint, and samples the GPU.
          </li>
          <li>
            <strong>Files are the truth.</strong> Everything lives on the host under <code>~/.gantry/runs/&lt;run&gt;/</code>: <code>plan.json</code>,{' '}
            <code>state.json</code>, the append-only event journal <code>events.jsonl</code>, and per game <code>train.log</code>,{' '}
            <code>metrics.jsonl</code>, <code>ckpt/</code> and <code>models/</code>. Closing the laptop or losing Wi-Fi never stops training; when Gantry
            reconnects it replays the journal from where it left off, so charts have no gaps.
          </li>
          <li>
            <strong>Keep the models</strong>: exported ONNX policies are downloaded over SFTP, checked against their SHA-256 and only then moved into your
            backup folder, so a model on your disk is always complete. Gantry can validate each one locally with ONNX Runtime.
          </li>
          <li>
            <strong>This computer</strong> runs exactly the same code as local processes with built-in games, so you can try the whole loop without a GPU
            host. Its files live in Gantry&apos;s data folder.
          </li>
        </ol>
      </article>
    </div>
  )
}
