// A fast 64-bit checksum (two FNV-1a hashes with different bases) for telling whether a
// file is exactly what kib wrote. It guards against edits and damage, not against an
// adversary: the files it seals are root's own.

export function checksum(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
