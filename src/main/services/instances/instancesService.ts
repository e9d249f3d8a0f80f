/**
 * The instance list. "This computer" is always present and always first.
 */
import * as instancesApi from '../../../shared/api/instances'
import type { DomainImpl } from '../../../shared/contract'
import type { EventBus } from '../eventBus'

const { LOCAL_INSTANCE_ID } = instancesApi

export function localInstanceSummary(): instancesApi.InstanceSummary {
  return {
    id: LOCAL_INSTANCE_ID,
    name: 'This computer',
    kind: 'local',
    address: 'this computer',
    hourlyPrice: null,
    connection: { status: 'connected', retryInS: null, message: null, since: Date.now() },
    setup: { status: 'unknown', remoteHash: null, checkedAt: null, message: null },
  }
}

export function createInstancesService(bus: EventBus) {
  const list = (): instancesApi.InstanceSummary[] => [localInstanceSummary()]
  const api: DomainImpl<typeof instancesApi.methods> = {
    'instances.list': async () => list(),
  }
  return {
    api,
    /** Re-broadcast the list after a change any service made. */
    publish() {
      bus.emit('instances.changed', { instances: list() })
    },
  }
}
