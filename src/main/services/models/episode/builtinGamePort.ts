/** The TypeScript port of a built-in game for live play, or null when Gantry has none for that game. */
import { createBuiltinGame, isBuiltinGameName } from '../../../../shared/games'
import type { PlayableGame } from './livePlay'

export function builtinGamePort(name: string, seed: number): PlayableGame | null {
  const id = name.toLowerCase()
  if (!isBuiltinGameName(id)) return null
  try {
    return createBuiltinGame(id, { seed })
  } catch (error) {
    if (error instanceof RangeError) return null // a built-in game not ported yet: its recording plays instead
    throw error
  }
}
