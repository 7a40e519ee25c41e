/**
 * What a file is, from its first bytes: the image types shown inline (PNG, JPEG, GIF, WebP) and their dimensions,
 * read from their headers. Nothing else is recognized: a client's declared type is never trusted for an image.
 */

export const INLINE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** How many leading bytes are kept to read dimensions (a JPEG's frame header may follow a large EXIF block). */
export const HEAD_BYTES = 256 * 1024;

/** The image type the bytes start with, or null; needs at least 12 bytes to tell. */
export function sniffImage(head: Buffer): (typeof INLINE_TYPES)[number] | null {
  if (head.length >= 8 && head.readUInt32BE(0) === 0x89504e47 && head.readUInt32BE(4) === 0x0d0a1a0a) {
    return 'image/png';
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return 'image/jpeg';
  }
  if (head.length >= 6 && /^GIF8[79]a$/.test(head.toString('latin1', 0, 6))) {
    return 'image/gif';
  }
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'image/webp';
  }
  return null;
}

export interface Dimensions {
  width: number;
  height: number;
}

function png(head: Buffer): Dimensions | null {
  if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') {
    return null;
  }
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

function gif(head: Buffer): Dimensions | null {
  return head.length < 10 ? null : { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
}

function webp(head: Buffer): Dimensions | null {
  if (head.length < 30) {
    return null;
  }
  const chunk = head.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    // Lossy: a key frame's start code, then 14-bit width and height.
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) {
      return null;
    }
    return { width: head.readUInt16LE(26) & 0x3fff, height: head.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (head[20] !== 0x2f) {
      return null;
    }
    const bits = head.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: head.readUIntLE(24, 3) + 1, height: head.readUIntLE(27, 3) + 1 };
  }
  return null;
}

/** Start-of-frame markers (baseline, progressive, ...): not DHT (C4), JPG (C8) or DAC (CC). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(head: Buffer): Dimensions | null {
  let at = 2;
  while (at + 9 < head.length) {
    if (head[at] !== 0xff) {
      return null;
    }
    const marker = head[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (SOF.has(marker)) {
      return { width: head.readUInt16BE(at + 7), height: head.readUInt16BE(at + 5) };
    }
    if (marker === 0xd9 || marker === 0xda) {
      return null;
    }
    at += 2 + head.readUInt16BE(at + 2);
  }
  return null;
}

/** An image's width and height from its first bytes (up to `HEAD_BYTES`), or null when they are not there. */
export function imageDimensions(type: string, head: Buffer): Dimensions | null {
  const found =
    type === 'image/png'
      ? png(head)
      : type === 'image/gif'
        ? gif(head)
        : type === 'image/webp'
          ? webp(head)
          : type === 'image/jpeg'
            ? jpeg(head)
            : null;
  return found && found.width > 0 && found.height > 0 ? found : null;
}
