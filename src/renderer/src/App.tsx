import { useState } from 'react'
import { Toasts } from './components/Toasts'
import { MainArea } from './features/dashboard/MainArea'
import { Sidebar } from './features/instances/Sidebar'
import { HowItWorks } from './features/welcome/HowItWorks'
import { useStore } from './store'

export function App() {
  const backend = useStore((s) => s.backend)
  const [showHowItWorks, setShowHowItWorks] = useState(false)
  return (
    <div className="app">
      <Sidebar />
      <MainArea />
      <button className="button help-button" onClick={() => setShowHowItWorks(true)}>
        How it works
      </button>
      {showHowItWorks && <HowItWorks onClose={() => setShowHowItWorks(false)} />}
      {backend === 'closed' && (
        <div className="banner banner-warning" role="status">
          Reconnecting to the Gantry backend…
        </div>
      )}
      <Toasts />
    </div>
  )
}
