import { describe, expect, it } from 'vitest'
import { costSoFar, etaHours, formatDuration, projectedCost, projectedRemainingHours, uptimeS } from './runMaths'

const g = (episodes: number, target: number, eph: number | null, state = 'running') => ({ episodes, target, episodesPerHour: eph, state: state as 'running' })

describe('ETA and cost maths', () => {
  it('computes a game ETA from its rate', () => {
    expect(etaHours(g(1000, 3000, 500))).toBe(4)
    expect(etaHours(g(3000, 3000, 500))).toBe(0)
    expect(etaHours(g(10, 3000, null))).toBeNull()
    expect(etaHours({ ...g(10, 3000, null), state: 'completed' as 'running' })).toBe(0)
  })

  it('projects the remaining time over the slots: never less than the longest game', () => {
    // 4 h + 2 h + 2 h of work on 2 slots: 4 h (the longest game bounds it).
    expect(projectedRemainingHours([g(1000, 3000, 500), g(0, 1000, 500), g(0, 1000, 500)], 2)).toBe(4)
    // 3 × 4 h on 2 slots: 6 h.
    expect(projectedRemainingHours([g(0, 2000, 500), g(0, 2000, 500), g(0, 2000, 500)], 2)).toBe(6)
    // Finished and failed games need nothing; a game without a rate makes it unknown.
    expect(projectedRemainingHours([g(5, 5, 1, 'completed'), g(0, 10, null, 'failed')], 1)).toBe(0)
    expect(projectedRemainingHours([g(0, 10, null)], 1)).toBeNull()
  })

  it('prices uptime and the projection at the hourly rate', () => {
    expect(costSoFar(2.5, 7200)).toBe(5)
    expect(costSoFar(null, 7200)).toBeNull()
    expect(projectedCost(2.5, 7200, 4)).toBe(15)
    expect(uptimeS({ startedTs: 100, endedTs: 400, ended: 'completed' }, 1000)).toBe(300)
    expect(uptimeS({ startedTs: 100, endedTs: null, ended: null }, 1000)).toBe(900)
    expect(formatDuration(1.5)).toBe('1 h 30 min')
    expect(formatDuration(0.25)).toBe('15 min')
  })
})
