/** Backend events → store, bound once at boot, outside React. */
import { api } from '../api'
import { useStore } from './index'
import { reportError } from './errors'

export function bindEvents(): void {
  const store = useStore.getState()
  api.onStatus((status) => useStore.getState().setBackend(status))
  api.on('instances.changed', ({ instances }) => useStore.getState().setInstances(instances))
  api.on('app.notification', (n) => useStore.getState().pushToast(n))
  api.on('models.progress', (e) => useStore.getState().applyModelProgress(e))
  api.on('models.backup', (h) => useStore.getState().setBackupHistory(h))
  api.on('runs.changed', ({ instanceId, runs }) => useStore.getState().setRuns(instanceId, runs))
  api['app.info']({}).then(store.setInfo, reportError)
  api['instances.list']({}).then(store.setInstances, reportError)
}
