import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { bindEvents } from './store/bindEvents'
import { reportError } from './store/errors'
import './styles.css'

bindEvents()
window.addEventListener('unhandledrejection', (event) => reportError(event.reason))

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
