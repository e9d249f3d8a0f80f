import { useStore } from '../../store'

export function MainArea() {
  const instance = useStore((s) => s.instances.find((i) => i.id === s.selectedInstanceId))
  if (!instance) return <main className="main-area empty-state">Loading instances…</main>
  return (
    <main className="main-area">
      <header className="page-header">
        <h1>{instance.name}</h1>
        <span className="muted">{instance.address}</span>
      </header>
      <section className="panel empty-state">
        <p>No run yet on {instance.name}.</p>
      </section>
    </main>
  )
}
