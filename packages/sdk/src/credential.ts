/**
 * `credential()`: inside a governed tool's body, the credential the daemon brokered for this call
 * (a `credential` block bound to the tool), or undefined. It exists only for the call's duration and
 * is never put in the environment. `delegationToken()`: inside a permitted `delegate/<worker>`
 * tool's body, the token to hand the worker. Node only (AsyncLocalStorage); edge runtimes have none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setCredentialRunner, type CallCredential, type CallGrant } from './govern.js';

// One store per process, shared by the ESM and CommonJS builds (see setCredentialRunner).
const STORE = Symbol.for('faramesh.sdk.credentialStore');
const holder = globalThis as { [STORE]?: AsyncLocalStorage<CallGrant | undefined> };
const current = (holder[STORE] ??= new AsyncLocalStorage<CallGrant | undefined>());
setCredentialRunner((grant, run) => current.run(grant, run));

export function credential(): CallCredential | undefined {
  return current.getStore()?.credential;
}

export function delegationToken(): string | undefined {
  return current.getStore()?.delegationToken;
}
