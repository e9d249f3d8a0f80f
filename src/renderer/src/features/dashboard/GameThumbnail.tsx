/**
 * A game card's live picture: the thumbnail.png its trainer writes every few seconds, fetched
 * through runs.thumbnail (checked in main) and shown from a data: URL (the CSP's img-src allows
 * data:). Refreshed only while the game trains, the card is on screen and the window is visible;
 * otherwise the last picture stays. Before the first picture, or when one is refused, a word says so
 * (its tooltip: the whole sentence).
 */
import { useEffect, useRef, useState } from 'react'
import { api } from '../../api'

export const THUMBNAIL_REFRESH_MS = 3000

/** `problem`: why the picture shown is not the newest (the last fetch failed). */
type Shown = { kind: 'picture'; src: string; writtenAt: number; problem?: string } | { kind: 'note'; text: string; title: string }

const NO_PICTURE_YET: Shown = { kind: 'note', text: 'No picture yet', title: 'The trainer writes a picture of its game every few seconds once it runs.' }

/** Whether the element is on screen and the window is visible. */
function useOnScreen(ref: React.RefObject<HTMLElement | null>): boolean {
  const [inView, setInView] = useState(false)
  const [pageVisible, setPageVisible] = useState(() => document.visibilityState === 'visible')
  useEffect(() => {
    const onVisibility = () => setPageVisible(document.visibilityState === 'visible')
    document.addEventListener('visibilitychange', onVisibility)
    return () => document.removeEventListener('visibilitychange', onVisibility)
  }, [])
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const observer = new IntersectionObserver((entries) => setInView(entries.some((e) => e.isIntersecting)))
    observer.observe(el)
    return () => observer.disconnect()
  }, [ref])
  return inView && pageVisible
}

export function GameThumbnail({ instanceId, runId, game, training }: { instanceId: string; runId: string; game: string; training: boolean }) {
  const ref = useRef<HTMLDivElement>(null)
  const onScreen = useOnScreen(ref)
  const [shown, setShown] = useState<Shown>(NO_PICTURE_YET)
  const loadedOnce = useRef(false)

  useEffect(() => {
    // A game that is not training keeps its picture: fetch it once, then only while it trains.
    if (!onScreen || (!training && loadedOnce.current)) return
    let cancelled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = async () => {
      try {
        const shot = await api['runs.thumbnail']({ instanceId, runId, game })
        if (cancelled) return
        loadedOnce.current = true
        setShown(shot.status === 'ok' ? { kind: 'picture', src: `data:image/png;base64,${shot.png}`, writtenAt: shot.writtenAt } : NO_PICTURE_YET)
      } catch (error) {
        if (cancelled) return
        const problem = error instanceof Error ? error.message : String(error)
        // A dropped connection or a refused file keeps the last good picture, saying why it is not newer.
        setShown((was) => (was.kind === 'picture' ? { ...was, problem } : { kind: 'note', text: 'No picture', title: problem }))
      }
      if (!cancelled && training) timer = setTimeout(() => void load(), THUMBNAIL_REFRESH_MS)
    }
    void load()
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [instanceId, runId, game, training, onScreen])

  return (
    <div ref={ref} className="game-thumb" aria-hidden data-testid="game-thumb" title={shown.kind === 'note' ? shown.title : (shown.problem ?? `${game} as its trainer saw it at ${new Date(shown.writtenAt).toLocaleTimeString()}`)}>
      {shown.kind === 'picture' ? <img src={shown.src} alt="" /> : <span className="game-thumb-note">{shown.text}</span>}
    </div>
  )
}
