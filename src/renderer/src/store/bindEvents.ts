/** Backend events → store, bound once at boot, outside React. Data flows one way: events and the few first reads below fill the store; views only read it. */
import { hostHasGantry } from '../../../shared/hostReady'
import { api } from '../api'
import { useStore } from './index'
import { reportError } from './errors'
import { setupOutput } from './setupOutput'

export function bindEvents(): void {
  const store = useStore.getState()
  api.onStatus((status) => {
    useStore.getState().setBackend(status)
    // A live set-up's next event corrects this if the backend comes back while it still runs.
    if (status === 'closed') useStore.getState().interruptWatchedSetups()
  })
  api.on('instances.changed', ({ instances }) => {
    useStore.getState().setInstances(instances)
    useStore.getState().dropToastsAboutGone(new Set(instances.map((i) => i.id)))
  })
  api.on('app.notification', (n) => useStore.getState().pushToast(n))
  api.on('models.progress', (e) => useStore.getState().applyModelProgress(e))
  api.on('models.backup', (h) => useStore.getState().setBackupHistory(h))
  api.on('runs.changed', ({ instanceId, runs }) => useStore.getState().setRuns(instanceId, runs))
  api.on('runs.afterRun', (status) => useStore.getState().setAfterRun(status))
  api.on('setup.output', ({ instanceId, data }) => setupOutput.append(instanceId, data))
  api.on('setup.steps', ({ instanceId, steps, running }) => useStore.getState().patchSetup(instanceId, { steps, running }))
  api.on('instances.prompt', (prompt) => useStore.getState().showPrompt(prompt))
  api.on('instances.promptClosed', ({ promptId }) => useStore.getState().closePrompt(promptId))
  api['app.info']({}).then(store.setInfo, reportError)
  api['instances.list']({}).then(store.setInstances, reportError)
  // A question asked before this window opened (another window, or before a reload) is still waiting.
  api['instances.pendingPrompts']({}).then((prompts) => prompts.forEach(useStore.getState().showPrompt), reportError)
  // The shown instance's runs are listed once when this window has none for it; from then on runs.changed keeps them.
  const asked = new Set<string>()
  const listShownRuns = (s: ReturnType<typeof useStore.getState>) => {
    const instance = s.instances.find((i) => i.id === s.selectedInstanceId)
    if (!instance || !hostHasGantry(instance) || s.runsByInstance[instance.id] || asked.has(instance.id)) return
    asked.add(instance.id) // once: a failed listing is reported, not retried on every store change (Refresh asks again)
    void s.refreshRuns(instance.id)
  }
  useStore.subscribe(listShownRuns)
}
