import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressGate } from './address-policy';

/** Resolves a host name to every address it has; injectable so tests never touch real DNS. */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Raised inside the socket's lookup when a resolved address is refused: the connect never starts. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_NEXUS_ADDRESS_REFUSED';
  constructor(reason: string) {
    super(reason);
    this.name = 'AddressRefusedError';
  }
}

/**
 * A `net` lookup that resolves, refuses the host if ANY of its addresses is refused (otherwise the
 * connection might pick the bad one, or a DNS answer could mix one public and one private
 * address), and hands the socket exactly the addresses it checked — so there is no second
 * resolution between check and connect for a rebinding DNS server to exploit.
 */
export function guardedLookup(gate: AddressGate, resolve: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = family === undefined ? addresses : addresses.filter((a) => a.family === family);
        const refusal = addresses.map((a) => gate.refusalOf(a.address)).find((r) => r !== undefined);
        const first = usable[0];
        if (refusal !== undefined) return callback(new AddressRefusedError(`${hostname}: ${refusal}`), '', 0);
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, usable);
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
