// 48-bit MAC addresses: the textual forms netaddr accepts (so whatever Neutron takes, we take),
// printed the one way Neutron stores them (lowercase, colon-separated, two digits per octet).

import { randomBytes } from 'node:crypto';

const MAX_MAC = 0xffffffffffffn;

/** netaddr's EUI-48 forms: groups of 6×8 bits, 3×16 bits, 2×24 bits, or 11–12 bare hex digits. */
const FORMATS: Array<{ re: RegExp; bits: bigint }> = [
  { re: /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i, bits: 8n },
  { re: /^([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})-([0-9a-f]{1,2})$/i, bits: 8n },
  { re: /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i, bits: 16n },
  { re: /^([0-9a-f]{1,4})-([0-9a-f]{1,4})-([0-9a-f]{1,4})$/i, bits: 16n },
  { re: /^([0-9a-f]{1,4})\.([0-9a-f]{1,4})\.([0-9a-f]{1,4})$/i, bits: 16n },
  { re: /^([0-9a-f]{5,6})-([0-9a-f]{5,6})$/i, bits: 24n },
  { re: /^([0-9a-f]{5,6}):([0-9a-f]{5,6})$/i, bits: 24n },
  { re: /^([0-9a-f]{11,12})$/i, bits: 48n },
];

/** A MAC as a number, or null. No whitespace anywhere (neutron-lib refuses it). */
export function parseMac(s: string): bigint | null {
  if (typeof s !== 'string') return null;
  for (const { re, bits } of FORMATS) {
    const m = re.exec(s);
    if (m) return m.slice(1).reduce((acc, g) => (acc << bits) | BigInt(`0x${g}`), 0n);
  }
  return null;
}

export function formatMac(value: bigint): string {
  const out: string[] = [];
  for (let sh = 40n; sh >= 0n; sh -= 8n) out.push(((value >> sh) & 0xffn).toString(16).padStart(2, '0'));
  return out.join(':');
}

/** Canonical form of any accepted MAC text, without judging the value (convert_to_sanitized_mac_address). */
export function sanitizeMac(s: string): string | null {
  const v = parseMac(s);
  return v === null ? null : formatMac(v);
}

/**
 * Canonical form of a MAC a port may carry (validate_mac_address): any netaddr form, but not
 * 00:00:00:00:00:00 or ff:ff:ff:ff:ff:ff. Multicast MACs pass, as in neutron-lib.
 */
export function normalizeMac(s: string): string | null {
  const v = parseMac(s);
  if (v === null || v === 0n || v === MAX_MAC) return null;
  return formatMac(v);
}

/** The I/G bit: least significant bit of the first octet. */
export function isMulticastMac(mac: string | bigint): boolean {
  const v = typeof mac === 'bigint' ? mac : parseMac(mac);
  return v !== null && ((v >> 40n) & 1n) === 1n;
}

/**
 * Neutron's get_random_mac: the first three octets of base_mac are kept, the fourth too when
 * it is not '00'; the rest come from a CSPRNG.
 */
export function randomMac(baseMac = 'fa:16:3e:00:00:00'): string {
  const base = baseMac.split(':');
  if (base.length !== 6 || base.some((o) => !/^[0-9a-f]{1,2}$/i.test(o))) {
    throw new TypeError(`invalid base_mac: ${baseMac}`);
  }
  const rnd = randomBytes(3);
  const octets = [
    parseInt(base[0] as string, 16),
    parseInt(base[1] as string, 16),
    parseInt(base[2] as string, 16),
    base[3] !== '00' ? parseInt(base[3] as string, 16) : (rnd[0] as number),
    rnd[1] as number,
    rnd[2] as number,
  ];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}
