/**
 * Keyboard behaviour every dialog shares: focus moves into it when it opens, Escape closes the
 * topmost one (a question over the wizard closes first), and focus goes back to what opened it.
 */
import { useEffect, useRef } from 'react'

const open: Array<{ close(): void }> = []

export function useDialog<T extends HTMLElement>(onClose: () => void) {
  const ref = useRef<T>(null)
  const close = useRef(onClose)
  close.current = onClose
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    const entry = { close: () => close.current() }
    open.push(entry)
    const root = ref.current
    if (root && !root.contains(document.activeElement)) {
      const first = root.querySelector<HTMLElement>('[autofocus], input:not([disabled]):not([type="hidden"]), select, textarea, button:not([disabled])')
      ;(first ?? root).focus()
    }
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || open.at(-1) !== entry) return
      event.preventDefault()
      entry.close()
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      open.splice(open.indexOf(entry), 1)
      if (opener?.isConnected) opener.focus()
    }
  }, [])
  return ref
}
