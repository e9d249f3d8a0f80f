import { useStore } from '../../store'
import { NO_SETUP_PROGRESS, type SetupProgress } from '../../store/setupSlice'

/** One instance's set-up progress from the store (an empty one before the first set-up). */
export function useSetupProgress(id: string): SetupProgress {
  return useStore((s) => s.setupProgress[id]) ?? NO_SETUP_PROGRESS
}
