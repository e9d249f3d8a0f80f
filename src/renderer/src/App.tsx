import { Toasts } from './components/Toasts'
import { MainArea } from './features/dashboard/MainArea'
import { Sidebar } from './features/instances/Sidebar'
import { useStore } from './store'

export function App() {
  const backend = useStore((s) => s.backend)
  return (
    <div className="app">
      <Sidebar />
      <MainArea />
      {backend === 'closed' && (
        <div className="banner banner-warning" role="status">
          Reconnecting to the Gantry backend…
        </div>
      )}
      <Toasts />
    </div>
  )
}
