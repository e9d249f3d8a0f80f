import { useEffect, useState } from 'react'
import { runKey } from '../../../../shared/api/runs'
import { useStore } from '../../store'
import { acquireRunFeed, type RunFeed } from './runFeed'

/** The run's feed while the component is mounted, and its revision (re-render trigger). */
export function useRunFeed(instanceId: string, runId: string | undefined): { feed: RunFeed | null; revision: number } {
  const [feed, setFeed] = useState<RunFeed | null>(null)
  useEffect(() => {
    if (!runId) return setFeed(null)
    const f = acquireRunFeed(instanceId, runId)
    setFeed(f)
    return () => f.release()
  }, [instanceId, runId])
  const revision = useStore((s) => (runId ? (s.runRevision[runKey(instanceId, runId)] ?? 0) : 0))
  return { feed, revision }
}

/** Seconds since the epoch, refreshed every `ms` (uptime and "stale since" tick without events). */
export function useNowS(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now() / 1000)
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now() / 1000), ms)
    return () => clearInterval(t)
  }, [ms])
  return now
}
