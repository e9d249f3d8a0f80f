/** Terminal tabs per instance (what each shows, never its bytes: those stay in xterm). */
import type { StateCreator } from 'zustand'
import type { TerminalKind } from '../../../shared/api/terminals'

export interface TerminalTab {
  tabId: string
  instanceId: string
  kind: TerminalKind
  runId?: string
  game?: string
  title: string
}

export interface TerminalsSlice {
  terminalTabs: TerminalTab[]
  activeTerminalByInstance: Record<string, string | undefined>
  /** Opens (or focuses, when one with the same target exists) a terminal tab. */
  openTerminalTab(spec: Omit<TerminalTab, 'tabId' | 'title'> & { title?: string }): string
  closeTerminalTab(tabId: string): void
  activateTerminalTab(instanceId: string, tabId: string): void
}

let tabCounter = 0

export function terminalTitle(spec: { kind: TerminalKind; game?: string }): string {
  return spec.kind === 'shell' ? 'Shell' : spec.kind === 'gpu' ? 'nvidia-smi' : spec.kind === 'supervisor' ? 'Supervisor log' : `${spec.game} log`
}

export const createTerminalsSlice: StateCreator<TerminalsSlice, [], [], TerminalsSlice> = (set, get) => ({
  terminalTabs: [],
  activeTerminalByInstance: {},
  openTerminalTab(spec) {
    const same = spec.kind !== 'shell' ? get().terminalTabs.find((t) => t.instanceId === spec.instanceId && t.kind === spec.kind && t.runId === spec.runId && t.game === spec.game) : undefined
    const tabId = same?.tabId ?? `tab${++tabCounter}`
    set((s) => ({
      terminalTabs: same ? s.terminalTabs : [...s.terminalTabs, { ...spec, tabId, title: spec.title ?? terminalTitle(spec) }],
      activeTerminalByInstance: { ...s.activeTerminalByInstance, [spec.instanceId]: tabId },
    }))
    return tabId
  },
  closeTerminalTab(tabId) {
    set((s) => {
      const tab = s.terminalTabs.find((t) => t.tabId === tabId)
      const rest = s.terminalTabs.filter((t) => t.tabId !== tabId)
      if (!tab) return s
      const active = s.activeTerminalByInstance[tab.instanceId] === tabId ? rest.filter((t) => t.instanceId === tab.instanceId).at(-1)?.tabId : s.activeTerminalByInstance[tab.instanceId]
      return { terminalTabs: rest, activeTerminalByInstance: { ...s.activeTerminalByInstance, [tab.instanceId]: active } }
    })
  },
  activateTerminalTab: (instanceId, tabId) => set((s) => ({ activeTerminalByInstance: { ...s.activeTerminalByInstance, [instanceId]: tabId } })),
})
