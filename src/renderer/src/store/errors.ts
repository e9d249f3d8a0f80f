/** Every failed call ends here: shown as a toast with the backend's actionable sentence. */
import { RpcError } from '../../../shared/rpc'
import { useStore } from './index'

const TITLES: Partial<Record<string, string>> = {
  invalid_input: 'Check the form',
  not_found: 'Not found',
  auth_failed: 'Authentication failed',
  host_key_changed: 'Host key changed',
  host_key_unknown: 'Unknown host key',
  unreachable: 'Cannot reach the host',
  remote_failed: 'The host reported an error',
  unsupported_protocol: 'Version mismatch',
  conflict: 'Already in progress',
}

/** `about` names the instance the failed call was about, so the toast leaves when that instance is removed. */
export function reportError(error: unknown, about?: { instanceId: string }): void {
  if (error instanceof RpcError && error.code === 'cancelled') return
  const title = error instanceof RpcError ? (TITLES[error.code] ?? 'Something went wrong') : 'Something went wrong'
  const body = error instanceof Error ? error.message : String(error)
  useStore.getState().pushToast({ level: 'error', title, body, ...(about ? { instanceId: about.instanceId } : {}) })
}
