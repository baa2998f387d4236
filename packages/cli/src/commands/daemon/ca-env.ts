import type { PolicyIR } from '@faramesh/fpl';
import { proxyCaFiles, type StackPaths } from '@faramesh/daemon/client';

/**
 * With TLS inspection, agents trust the stack's proxy CA: Node through NODE_EXTRA_CA_CERTS, and
 * OpenSSL, curl and Python through a bundle of the system roots plus the CA.
 */
export function caEnv(paths: StackPaths, ir: PolicyIR): Record<string, string> {
  if (ir.runtime.https_inspection !== true) return {};
  const { cert, bundle } = proxyCaFiles(paths.mirrors);
  return { NODE_EXTRA_CA_CERTS: cert, SSL_CERT_FILE: bundle, REQUESTS_CA_BUNDLE: bundle, CURL_CA_BUNDLE: bundle };
}
