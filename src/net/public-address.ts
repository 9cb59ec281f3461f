/**
 * Which addresses federation, Web Push and the media cache may connect to:
 * none on the server's own networks (loopback, private, link-local,
 * reserved), checked on every connection so that a name cannot be
 * re-pointed after a check. ALLOW_PRIVATE_ADDRESS (development and tests)
 * lifts the rule where its callers honour it.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

// Kept apart: a list holding ::ffff:0:0/96 would also match every IPv4 address.
const NON_PUBLIC_V4 = new BlockList();
const NON_PUBLIC_V6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) {
  NON_PUBLIC_V4.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], ["::1", 128], ["::ffff:0:0", 96], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["100::", 64],
  ["2001::", 23], ["2001:db8::", 32], ["2002::", 16], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8],
] as const) {
  NON_PUBLIC_V6.addSubnet(network, prefix, "ipv6");
}

/** Whether an IP address lies outside every loopback, private and reserved range. */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped != null) return !NON_PUBLIC_V4.check(mapped[1], "ipv4");
  return version === 4 ? !NON_PUBLIC_V4.check(address, "ipv4") : !NON_PUBLIC_V6.check(address, "ipv6");
}

/** Whether a URL's host (brackets stripped) is a non-public literal address or a `localhost` name. */
export function isNonPublicHost(host: string): boolean {
  return isIP(host) !== 0 ? !isPublicAddress(host) : host === "localhost" || host.endsWith(".localhost");
}

/**
 * A `lookup` for node:http(s) that resolves like dns.lookup but fails, with
 * the error `refuse` makes, for a name leading to a non-public address.
 */
export function publicAddressLookup(refuse: (message: string) => Error): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error != null) {
        callback(error, "", 0);
        return;
      }
      const refused = addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused != null || addresses.length === 0) {
        callback(refuse(`${hostname} resolves to ${refused?.address ?? "nothing"}, which is not a public address`), "", 0);
        return;
      }
      if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
