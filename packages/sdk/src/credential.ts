/**
 * `credential()`: inside a governed tool's body, the credential the daemon brokered for this call
 * (a `credential` block bound to the tool), or undefined. It exists only for the call's duration and
 * is never put in the environment. Node only (AsyncLocalStorage); edge runtimes have none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setCredentialRunner, type CallCredential } from './govern.js';

const current = new AsyncLocalStorage<CallCredential | undefined>();
setCredentialRunner((credential, run) => current.run(credential, run));

export function credential(): CallCredential | undefined {
  return current.getStore();
}
